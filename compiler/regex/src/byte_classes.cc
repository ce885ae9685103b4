// Partition refinement: each set splits every class into members and
// non-members. Classes are bit sets, so a split is a few word operations
// rather than a pass over all 256 bytes per set. Upper-case letters take no
// part (no set holds them) and are mapped to their lower-case letter's class
// at the end.
#include "byte_classes.h"

#include <algorithm>

#include "bits256.h"

namespace dnspc::regex::detail {

namespace {

// Every byte but 'A'..'Z' (bits 65..90).
Bits256 folded_domain() {
  Bits256 all{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}};
  all[1] &= ~(((uint64_t{1} << 26) - 1) << 1);
  return all;
}

}  // namespace

ByteClasses partition_bytes(std::span<const ByteSet> sets) {
  std::vector<Bits256> classes;
  classes.reserve(64);
  classes.push_back(folded_domain());
  for (const ByteSet& s : sets) refine(classes, s.words());
  // Number classes in order of their first byte, so equal NFAs give equal
  // class numbers.
  std::sort(classes.begin(), classes.end(),
            [](const Bits256& a, const Bits256& b) { return lowest(a) < lowest(b); });
  ByteClasses out;
  out.representative.reserve(classes.size());
  for (size_t c = 0; c < classes.size(); ++c) {
    out.representative.push_back(static_cast<uint8_t>(lowest(classes[c])));
    for_each_member(classes[c], [&](uint32_t b) { out.of_byte[b] = static_cast<uint8_t>(c); });
  }
  for (unsigned b = 'A'; b <= 'Z'; ++b) out.of_byte[b] = out.of_byte[fold_byte(static_cast<uint8_t>(b))];
  return out;
}

}  // namespace dnspc::regex::detail
