#include "dnspc/heavy_hitters.h"

#include <algorithm>
#include <utility>

namespace dnspc {

HeavyHitters::HeavyHitters(uint32_t capacity) : capacity_(std::max<uint32_t>(capacity, 1)) {
  // At most half full, so linear probes stay short.
  uint32_t slots = 1;
  while (slots < 2 * capacity_) slots <<= 1;
  index_mask_ = slots - 1;
  entries_ = std::make_unique<Entry[]>(capacity_);
  heap_ = std::make_unique<uint32_t[]>(capacity_);
  heap_pos_ = std::make_unique<uint32_t[]>(capacity_);
  index_ = std::make_unique<uint32_t[]>(slots);
  std::fill_n(index_.get(), slots, kEmpty);
}

size_t HeavyHitters::bytes() const {
  return sizeof(*this) + capacity_ * (sizeof(Entry) + 2 * sizeof(uint32_t)) +
         (static_cast<size_t>(index_mask_) + 1) * sizeof(uint32_t);
}

void HeavyHitters::clear() {
  std::fill_n(index_.get(), static_cast<size_t>(index_mask_) + 1, kEmpty);
  size_ = 0;
  total_ = 0;
}

uint32_t HeavyHitters::find_slot(const SourcePrefix& prefix) const {
  uint32_t slot = static_cast<uint32_t>(prefix.hash()) & index_mask_;
  while (index_[slot] != kEmpty && !(entries_[index_[slot]].prefix == prefix))
    slot = (slot + 1) & index_mask_;
  return slot;
}

// Backward-shift deletion: later members of the probe run move up, so no
// tombstones accumulate however many prefixes come and go.
void HeavyHitters::erase_slot(uint32_t slot) {
  uint32_t hole = slot;
  for (uint32_t next = (hole + 1) & index_mask_; index_[next] != kEmpty;
       next = (next + 1) & index_mask_) {
    uint32_t home = static_cast<uint32_t>(entries_[index_[next]].prefix.hash()) & index_mask_;
    // Move `next` into the hole unless its home lies cyclically in (hole, next].
    bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (stays) continue;
    index_[hole] = index_[next];
    hole = next;
  }
  index_[hole] = kEmpty;
}

void HeavyHitters::swap_heap(uint32_t a, uint32_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_pos_[heap_[a]] = a;
  heap_pos_[heap_[b]] = b;
}

void HeavyHitters::sift_down(uint32_t pos) {
  for (;;) {
    uint32_t smallest = pos, l = 2 * pos + 1, r = l + 1;
    if (l < size_ && entries_[heap_[l]].count < entries_[heap_[smallest]].count) smallest = l;
    if (r < size_ && entries_[heap_[r]].count < entries_[heap_[smallest]].count) smallest = r;
    if (smallest == pos) return;
    swap_heap(pos, smallest);
    pos = smallest;
  }
}

void HeavyHitters::sift_up(uint32_t pos) {
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (entries_[heap_[parent]].count <= entries_[heap_[pos]].count) return;
    swap_heap(pos, parent);
    pos = parent;
  }
}

void HeavyHitters::add(const SourcePrefix& prefix, uint64_t weight) {
  total_ += weight;
  uint32_t slot = find_slot(prefix);
  if (index_[slot] != kEmpty) {
    uint32_t e = index_[slot];
    entries_[e].count += weight;
    sift_down(heap_pos_[e]);
    return;
  }
  if (size_ < capacity_) {
    uint32_t e = size_++;
    entries_[e] = {prefix, weight, 0};
    index_[slot] = e;
    heap_[e] = e;
    heap_pos_[e] = e;
    sift_up(e);
    return;
  }
  // Full: the newcomer takes over the smallest counter and inherits its
  // count, which bounds what the newcomer may have sent before.
  uint32_t e = heap_[0];
  erase_slot(find_slot(entries_[e].prefix));
  Entry& victim = entries_[e];
  victim.prefix = prefix;
  victim.error = victim.count;
  victim.count += weight;
  index_[find_slot(prefix)] = e;
  sift_down(0);
}

}  // namespace dnspc
