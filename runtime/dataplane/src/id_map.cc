#include "dnspc/runtime/id_map.h"

namespace dnspc::runtime {

IdMap::IdMap(uint32_t max_entries) {
  uint64_t n = 8;
  while (n < 2 * static_cast<uint64_t>(max_entries)) n <<= 1;
  mask_ = static_cast<uint32_t>(n - 1);
  entries_ = std::make_unique<Entry[]>(n);  // zeroed: all empty
}

bool IdMap::insert(uint32_t key, uint32_t value) {
  uint32_t i = slot_of(key);
  for (;;) {
    Entry& e = entries_[i];
    if (e.key1 == 0) {
      e.key1 = key + 1;
      e.value = value;
      ++size_;
      return true;
    }
    if (e.key1 == key + 1) return false;
    i = (i + 1) & mask_;
  }
}

bool IdMap::erase(uint32_t key) {
  uint32_t i = slot_of(key);
  for (;;) {
    Entry& e = entries_[i];
    if (e.key1 == 0) return false;
    if (e.key1 == key + 1) break;
    i = (i + 1) & mask_;
  }
  // Backward-shift: pull later entries of the cluster into the hole when
  // their home slot is not between the hole and them.
  uint32_t hole = i;
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    Entry& e = entries_[j];
    if (e.key1 == 0) break;
    uint32_t home = slot_of(e.key1 - 1);
    bool between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (between) continue;
    entries_[hole] = e;
    hole = j;
  }
  entries_[hole].key1 = 0;
  --size_;
  return true;
}

}  // namespace dnspc::runtime
