// Partition refinement: each set splits every class into members and
// non-members. Upper-case letters take no part (no set holds them) and are
// mapped to their lower-case letter's class at the end.
#include "byte_classes.h"

namespace dnspc::regex::detail {

ByteClasses partition_bytes(std::span<const ByteSet> sets) {
  std::array<uint16_t, 256> cls{};  // all in class 0
  uint16_t count = 1;
  for (const ByteSet& s : sets) {
    // Old class -> class of its members (0 = none seen yet).
    std::array<uint16_t, 256> member_class{};
    std::array<bool, 256> has_outsider{};
    for (unsigned b = 0; b < 256; ++b) {
      if (!s.test(static_cast<uint8_t>(b)) && fold_byte(static_cast<uint8_t>(b)) == b) {
        has_outsider[cls[b]] = true;
      }
    }
    for (unsigned b = 0; b < 256; ++b) {
      if (!s.test(static_cast<uint8_t>(b)) || !has_outsider[cls[b]]) continue;
      uint16_t& moved = member_class[cls[b]];
      if (moved == 0) moved = count++;
      cls[b] = moved;
    }
  }
  ByteClasses out;
  // Renumber in byte order so equal NFAs give equal class numbers.
  std::array<int, 256> renumber;
  renumber.fill(-1);
  for (unsigned b = 0; b < 256; ++b) {
    const uint8_t folded = fold_byte(static_cast<uint8_t>(b));
    if (folded != b) continue;
    int& r = renumber[cls[b]];
    if (r < 0) {
      r = static_cast<int>(out.representative.size());
      out.representative.push_back(static_cast<uint8_t>(b));
    }
    out.of_byte[b] = static_cast<uint8_t>(r);
  }
  for (unsigned b = 'A'; b <= 'Z'; ++b) out.of_byte[b] = out.of_byte[fold_byte(static_cast<uint8_t>(b))];
  return out;
}

}  // namespace dnspc::regex::detail
