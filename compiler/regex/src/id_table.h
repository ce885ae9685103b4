// Interning without a heap node per key: an open-addressing table from a
// key's hash to its dense id, the keys themselves staying in the caller's
// flat arrays. The automaton passes intern many small keys (byte sets, NFA
// state sets, table columns); std::map / std::unordered_map of vectors spent
// most of their time in malloc and pointer chasing.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dnspc::regex::detail {

// Hash of a sequence of small integers: four interleaved multiply chains,
// so long keys (large NFA state sets) do not wait on one multiply per
// element. The final mix matters: the table indexes by the low bits.
template <typename T>
uint64_t hash_sequence(std::span<const T> values) {
  constexpr uint64_t kMul = 0xff51afd7ed558ccdull;
  uint64_t lane[4] = {0x9e3779b97f4a7c15ull ^ values.size(), 1, 2, 3};
  size_t i = 0;
  for (; i + 4 <= values.size(); i += 4) {
    for (size_t l = 0; l < 4; ++l) {
      lane[l] = (lane[l] ^ static_cast<uint64_t>(values[i + l])) * kMul;
    }
  }
  for (; i < values.size(); ++i) lane[0] = (lane[0] ^ static_cast<uint64_t>(values[i])) * kMul;
  uint64_t h = lane[0] ^ std::rotl(lane[1], 16) ^ std::rotl(lane[2], 32) ^ std::rotl(lane[3], 48);
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

class IdTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  explicit IdTable(size_t expected = 8) { clear(expected); }

  // Empties the table, sized for `expected` keys before it has to grow.
  void clear(size_t expected) {
    size_t capacity = 16;
    while (capacity < 2 * expected) capacity *= 2;
    slots_.assign(capacity, Slot{});
    size_ = 0;
  }

  // The id whose key has `hash` and satisfies same(id), or kNone.
  template <typename Same>
  uint32_t find(uint64_t hash, Same&& same) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.id == kNone) return kNone;
      if (s.hash == hash && same(s.id)) return s.id;
    }
  }

  // Adds an id whose key is not in the table yet.
  void insert(uint64_t hash, uint32_t id) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    place(hash, id);
    ++size_;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t id = kNone;
  };

  void place(uint64_t hash, uint32_t id) {
    const size_t mask = slots_.size() - 1;
    size_t i = hash & mask;
    while (slots_[i].id != kNone) i = (i + 1) & mask;
    slots_[i] = {hash, id};
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.id != kNone) place(s.hash, s.id);
    }
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace dnspc::regex::detail
