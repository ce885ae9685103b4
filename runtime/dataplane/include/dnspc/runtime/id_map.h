// The outstanding table of one backend in one worker: (socket, query ID) ->
// in-flight slot. Open addressing with linear probing over a fixed power-of-
// two array sized at start (load at most 1/2 of the outstanding bound), and
// backward-shift deletion, so no tombstones and no allocation after start.
#pragma once

#include <cstdint>
#include <memory>

namespace dnspc::runtime {

class IdMap {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;

  // Room for `max_entries` keys at load <= 1/2.
  explicit IdMap(uint32_t max_entries = 1);

  uint32_t find(uint32_t key) const {
    uint32_t i = slot_of(key);
    for (;;) {
      const Entry& e = entries_[i];
      if (e.key1 == 0) return kNone;
      if (e.key1 == key + 1) return e.value;
      i = (i + 1) & mask_;
    }
  }
  // False when the key is present already (nothing changes).
  bool insert(uint32_t key, uint32_t value);
  // False when absent.
  bool erase(uint32_t key);
  uint32_t size() const { return size_; }
  uint32_t capacity() const { return mask_ + 1; }

  // Keys are (socket index << 16) | query ID.
  static uint32_t key(uint32_t socket, uint16_t id) { return (socket << 16) | id; }

 private:
  struct Entry {
    uint32_t key1;  // key + 1; 0: empty
    uint32_t value;
  };
  uint32_t slot_of(uint32_t key) const {
    uint32_t h = key * 0x9e3779b1u;
    return (h ^ (h >> 15)) & mask_;
  }

  std::unique_ptr<Entry[]> entries_;
  uint32_t mask_ = 0;
  uint32_t size_ = 0;
};

}  // namespace dnspc::runtime
