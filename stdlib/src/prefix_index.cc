// The out-of-line parts of prefix_index.h: the probe, the builder and the
// well-formedness check.
#include "dnspc/prefix_index.h"

#include <algorithm>

#include "dnspc/candidate_merge.h"

namespace dnspc {

namespace {

// One list per present length at most: 33 (IPv4) or 129 (IPv6).
using PrefixMerge = CandidateMergeN<129>;

inline void add_group(const PrefixIndex& x, uint32_t g, PrefixMerge& m) {
  const uint32_t b = x.group_begin[g];
  m.add(x.ids.data() + b, x.group_begin[g + 1] - b);
}

constexpr uint32_t kNoGroup = 0xffffffffu;

}  // namespace

uint32_t prefix_probe(const PrefixIndex& x, const NetAddress& a, uint32_t* out, uint32_t cap) {
  PrefixMerge m;
  if (a.family == AddressFamily::kIPv4) {
    const uint32_t w = address_word(a.bytes, 0);
    for (const PrefixTable& t : x.v4_tables) {
      const uint32_t g = prefix_find_v4(x, t, w & t.mask[0]);
      if (g != kNoGroup) add_group(x, g, m);
    }
  } else if (a.family == AddressFamily::kIPv6) {
    const uint32_t w[4] = {address_word(a.bytes, 0), address_word(a.bytes, 1),
                           address_word(a.bytes, 2), address_word(a.bytes, 3)};
    for (const PrefixTable& t : x.v6_tables) {
      const uint32_t key[4] = {w[0] & t.mask[0], w[1] & t.mask[1], w[2] & t.mask[2],
                               w[3] & t.mask[3]};
      const uint32_t g = prefix_find_v6(x, t, key);
      if (g != kNoGroup) add_group(x, g, m);
    }
  }
  return m.drain(out, cap);
}

const char* PrefixIndexBuilder::add(const NetAddress& address, unsigned prefix_len,
                                    uint32_t test_id) {
  unsigned bits = 0, words = 0;
  if (address.family == AddressFamily::kIPv4) {
    bits = 32;
    words = 1;
  } else if (address.family == AddressFamily::kIPv6) {
    bits = 128;
    words = 4;
  } else {
    return "address has no family";
  }
  if (prefix_len > bits) return "prefix length past the address size";
  Key k{static_cast<uint8_t>(address.family), static_cast<uint8_t>(prefix_len), {0, 0, 0, 0}};
  for (unsigned j = 0; j < words; ++j) {
    k.words[j] = address_word(address.bytes, j) & prefix_word_mask(prefix_len, j);
  }
  groups_[k].push_back(test_id);
  return nullptr;
}

PrefixIndex PrefixIndexBuilder::build() const {
  PrefixIndex x;
  x.group_begin.push_back(0);
  // groups_ is ordered by family then length, so each (family, length) run
  // is contiguous: one table per run.
  auto run = groups_.begin();
  uint32_t group = 0;
  while (run != groups_.end()) {
    auto run_end = run;
    size_t n = 0;
    while (run_end != groups_.end() && run_end->first.family == run->first.family &&
           run_end->first.len == run->first.len) {
      ++run_end;
      ++n;
    }
    const bool v4 = run->first.family == static_cast<uint8_t>(AddressFamily::kIPv4);
    std::vector<uint32_t>& slots = v4 ? x.v4_slots : x.v6_slots;
    const uint32_t stride = v4 ? kPrefixV4SlotWords : kPrefixV6SlotWords;
    PrefixTable t;
    t.prefix_len = run->first.len;
    t.slot_begin = static_cast<uint32_t>(slots.size() / stride);
    const uint32_t slot_count = flat::slot_count_for(n);
    t.slot_mask = slot_count - 1;
    for (unsigned j = 0; j < 4; ++j) t.mask[j] = v4 && j > 0 ? 0 : prefix_word_mask(t.prefix_len, j);
    slots.resize(slots.size() + size_t{slot_count} * stride, 0);
    uint32_t* base = slots.data() + size_t{t.slot_begin} * stride;

    for (auto it = run; it != run_end; ++it, ++group) {
      std::vector<uint32_t> ids = it->second;
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      x.ids.insert(x.ids.end(), ids.begin(), ids.end());
      x.group_begin.push_back(static_cast<uint32_t>(x.ids.size()));

      const std::array<uint32_t, 4>& w = it->first.words;
      const uint64_t h = v4 ? flat::hash_word(w[0]) : flat::hash_words4(w.data());
      uint32_t s = static_cast<uint32_t>(h) & t.slot_mask;
      while (base[size_t{s} * stride + stride - 1] != 0) s = (s + 1) & t.slot_mask;
      uint32_t* slot = base + size_t{s} * stride;
      for (uint32_t j = 0; j + 1 < stride; ++j) slot[j] = w[j];
      slot[stride - 1] = group + 1;
    }
    (v4 ? x.v4_tables : x.v6_tables).push_back(t);
    run = run_end;
  }
  return x;
}

namespace {

const char* check_family(const PrefixIndex& x, const std::vector<PrefixTable>& tables,
                         const std::vector<uint32_t>& slots, bool v4) {
  const uint32_t stride = v4 ? kPrefixV4SlotWords : kPrefixV6SlotWords;
  const unsigned max_len = v4 ? 32 : 128;
  const size_t groups = x.group_begin.size() - 1;
  if (slots.size() % stride != 0) return "slot array size";
  const size_t slot_total = slots.size() / stride;
  size_t next_slot = 0;
  for (size_t i = 0; i < tables.size(); ++i) {
    const PrefixTable& t = tables[i];
    if (t.prefix_len > max_len) return "prefix length out of range";
    if (i > 0 && tables[i - 1].prefix_len >= t.prefix_len) return "lengths not ascending";
    for (unsigned j = 0; j < 4; ++j) {
      const uint32_t want = v4 && j > 0 ? 0 : prefix_word_mask(t.prefix_len, j);
      if (t.mask[j] != want) return "netmask differs from prefix length";
    }
    const uint64_t count = uint64_t{t.slot_mask} + 1;
    if ((count & t.slot_mask) != 0) return "slot count not a power of two";
    if (t.slot_begin != next_slot || t.slot_begin + count > slot_total) return "slot range";
    next_slot = t.slot_begin + count;
    size_t used = 0;
    for (uint64_t s = 0; s < count; ++s) {
      const uint32_t* slot = slots.data() + (t.slot_begin + s) * stride;
      const uint32_t g1 = slot[stride - 1];
      if (g1 == 0) continue;
      if (g1 > groups) return "slot refers past the groups";
      for (uint32_t j = 0; j + 1 < stride; ++j) {
        if ((slot[j] & t.mask[j]) != slot[j]) return "key has host bits";
      }
      ++used;
    }
    if (used >= count) return "no empty slot";
    for (uint64_t s = 0; s < count; ++s) {
      const uint32_t* slot = slots.data() + (t.slot_begin + s) * stride;
      const uint32_t g1 = slot[stride - 1];
      if (g1 == 0) continue;
      const uint32_t g = v4 ? prefix_find_v4(x, t, slot[0]) : prefix_find_v6(x, t, slot);
      if (g != g1 - 1) return "key not found at its slot";
    }
  }
  if (next_slot != slot_total) return "slots outside every table";
  return nullptr;
}

}  // namespace

const char* prefix_index_check(const PrefixIndex& x) {
  if (x.group_begin.empty()) {  // a default, empty index
    if (!x.ids.empty() || !x.v4_tables.empty() || !x.v6_tables.empty() || !x.v4_slots.empty() ||
        !x.v6_slots.empty()) {
      return "tables without a group index";
    }
    return nullptr;
  }
  if (x.group_begin.front() != 0 || x.group_begin.back() != x.ids.size()) {
    return "group index bounds";
  }
  for (size_t g = 0; g + 1 < x.group_begin.size(); ++g) {
    if (x.group_begin[g] > x.group_begin[g + 1]) return "group index not monotone";
  }
  for (size_t g = 0; g + 1 < x.group_begin.size(); ++g) {
    for (uint32_t j = x.group_begin[g] + 1; j < x.group_begin[g + 1]; ++j) {
      if (x.ids[j - 1] >= x.ids[j]) return "ids not strictly ascending";
    }
  }
  if (const char* err = check_family(x, x.v4_tables, x.v4_slots, true)) return err;
  return check_family(x, x.v6_tables, x.v6_slots, false);
}

}  // namespace dnspc
