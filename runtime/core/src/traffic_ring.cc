#include "dnspc/runtime/traffic_ring.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace dnspc::runtime {

namespace {

// The words a record occupies: the fixed part and as much of the name as it has.
size_t used_words(const TrafficRecord& r) {
  return (offsetof(TrafficRecord, qname) + r.qname_length + 7) / 8;
}

}  // namespace

TrafficRing::TrafficRing(size_t capacity) : capacity_(capacity), slots_(capacity ? new Slot[capacity] : nullptr) {}

void TrafficRing::push(const TrafficRecord& r) {
  if (capacity_ == 0) return;
  const uint64_t n = next_.load(std::memory_order_relaxed);
  Slot& s = slots_[n % capacity_];
  const size_t used = used_words(r);
  const auto* bytes = reinterpret_cast<const unsigned char*>(&r);
  const uint64_t seq = s.seq.load(std::memory_order_relaxed);
  s.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t i = 0; i < used; ++i) {
    // Straight from the record, a word at a time (the last may be partly past it).
    uint64_t word = 0;
    std::memcpy(&word, bytes + i * 8, std::min<size_t>(8, sizeof r - i * 8));
    s.words[i].store(word, std::memory_order_relaxed);
  }
  s.seq.store(seq + 2, std::memory_order_release);
  next_.store(n + 1, std::memory_order_release);
}

void TrafficRing::snapshot(std::vector<TrafficRecord>& out) const {
  if (capacity_ == 0) return;
  const uint64_t end = next_.load(std::memory_order_acquire);
  const uint64_t begin = end > capacity_ ? end - capacity_ : 0;
  for (uint64_t n = begin; n < end; ++n) {
    const Slot& s = slots_[n % capacity_];
    const uint64_t before = s.seq.load(std::memory_order_acquire);
    if (before & 1) continue;
    uint64_t words[kWords];
    for (size_t i = 0; i < kWords; ++i) words[i] = s.words[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != before) continue;  // overwritten meanwhile
    TrafficRecord r;
    std::memcpy(&r, words, sizeof r);
    if (r.qname_length > kMaxNameLength) continue;
    out.push_back(r);
  }
}

}  // namespace dnspc::runtime
