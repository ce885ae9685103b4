// 256-bit sets as four words: sets of bytes (refined into byte classes) and
// sets of byte classes (a DFA state's groups of classes, an edge's classes).
// Word operations instead of per-member loops keep the passes proportional
// to the number of sets and parts, not to 256.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dnspc::regex::detail {

using Bits256 = std::array<uint64_t, 4>;

inline bool test(const Bits256& b, uint32_t i) { return (b[i >> 6] >> (i & 63)) & 1u; }

inline void set(Bits256& b, uint32_t i) { b[i >> 6] |= uint64_t{1} << (i & 63); }

inline void unite(Bits256& a, const Bits256& b) {
  for (size_t w = 0; w < 4; ++w) a[w] |= b[w];
}

inline bool none(const Bits256& b) { return (b[0] | b[1] | b[2] | b[3]) == 0; }

// The smallest member, or 256 when empty.
inline uint32_t lowest(const Bits256& b) {
  for (uint32_t i = 0; i < 4; ++i) {
    if (b[i]) return i * 64 + static_cast<uint32_t>(std::countr_zero(b[i]));
  }
  return 256;
}

// Calls f(i) for each member i, ascending.
template <typename F>
void for_each_member(const Bits256& b, F&& f) {
  for (uint32_t w = 0; w < 4; ++w) {
    for (uint64_t bits = b[w]; bits != 0; bits &= bits - 1) {
      f(w * 64 + static_cast<uint32_t>(std::countr_zero(bits)));
    }
  }
}

// Splits every part that `by` cuts into its members in `by` and the rest.
inline void refine(std::vector<Bits256>& parts, const Bits256& by) {
  const size_t n = parts.size();  // halves split off now need no re-test
  for (size_t i = 0; i < n; ++i) {
    Bits256 inside, outside;
    for (size_t w = 0; w < 4; ++w) {
      inside[w] = parts[i][w] & by[w];
      outside[w] = parts[i][w] & ~by[w];
    }
    if (none(inside) || none(outside)) continue;
    parts[i] = inside;
    parts.push_back(outside);
  }
}

}  // namespace dnspc::regex::detail
