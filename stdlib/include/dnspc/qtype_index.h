// Query-type tests as a flat table: which "qtype == X" / "qtype in {...}"
// tests hold for a query's type.
//
// Memory layout (indices only, so each array can be copied verbatim into JIT
// constant data):
//
//   small_begin  257 offsets into ids: the ids for qtype t < 256 are
//                ids[small_begin[t] .. small_begin[t + 1]) (one load pair,
//                no search: every common type is below 256).
//   large_qtypes the qtypes >= 256 that have ids, strictly ascending (a short
//                array, binary-searched).
//   large_begin  large_qtypes.size() + 1 offsets into ids: the ids for
//                large_qtypes[i] are ids[large_begin[i] .. large_begin[i+1]).
//   ids          test ids, strictly ascending within each range.
//
// A default QtypeIndex is valid and empty.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <vector>

namespace dnspc {

struct QtypeIndex {
  std::array<uint32_t, 257> small_begin{};
  std::vector<uint16_t> large_qtypes;
  std::vector<uint32_t> large_begin;
  std::vector<uint32_t> ids;
};

// The ids of the tests true for `qtype`, ascending, without repeats; a view
// into the index (no copy).
inline std::span<const uint32_t> qtype_ids(const QtypeIndex& x, uint16_t qtype) {
  if (qtype < 256) {
    const uint32_t b = x.small_begin[qtype];
    return {x.ids.data() + b, x.small_begin[qtype + 1u] - b};
  }
  const auto it = std::lower_bound(x.large_qtypes.begin(), x.large_qtypes.end(), qtype);
  if (it == x.large_qtypes.end() || *it != qtype) return {};
  const size_t i = static_cast<size_t>(it - x.large_qtypes.begin());
  const uint32_t b = x.large_begin[i];
  return {x.ids.data() + b, x.large_begin[i + 1] - b};
}

// The same ids copied: writes the first `cap` to `out` and returns how many
// there are in all.
inline uint32_t qtype_probe(const QtypeIndex& x, uint16_t qtype, uint32_t* out, uint32_t cap) {
  const std::span<const uint32_t> ids = qtype_ids(x, qtype);
  const uint32_t n = static_cast<uint32_t>(ids.size());
  const uint32_t copy = n < cap ? n : cap;
  if (copy > 0) std::memcpy(out, ids.data(), size_t{copy} * sizeof(uint32_t));
  return n;
}

class QtypeIndexBuilder {
 public:
  void add(uint16_t qtype, uint32_t test_id) { lists_[qtype].push_back(test_id); }
  // A "qtype in {set}" test: true for each of `qtypes`.
  void add(std::span<const uint16_t> qtypes, uint32_t test_id) {
    for (uint16_t t : qtypes) add(t, test_id);
  }

  QtypeIndex build() const;

 private:
  std::map<uint16_t, std::vector<uint32_t>> lists_;
};

// Probes trust their table; one from anywhere but QtypeIndexBuilder is
// checked first. Returns nullptr when well formed, else what is wrong.
const char* qtype_index_check(const QtypeIndex& x);

}  // namespace dnspc
