// A Space-Saving summary (Metwally, Agrawal, El Abbadi, 2005): the heaviest
// source prefixes of a stream in a fixed number of counters.
//
// The guarantee dynamic blocks rely on. With capacity m, after counting a
// total weight N:
// - every prefix whose true weight is above N / m holds a counter;
// - a counter never under-counts: true <= count, and count - error <= true,
//   where `error` is what the counter inherited when its prefix took it over;
// - a prefix without a counter weighs at most floor() (the smallest count
//   when the summary is full, 0 otherwise), and floor() <= N / m.
// So spraying queries from millions of other sources cannot hide a source
// sending more than 1/m of the traffic: the spray only raises the smallest
// counters, which newcomers keep evicting from each other.
//
// Memory is fixed at construction (bytes()): m entries, a min-heap of m
// positions and a hash index of 2m..4m slots. add() never allocates and takes
// O(log m) (a heap sift); one writer thread, no atomics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dnspc/source_prefix.h"

namespace dnspc {

class HeavyHitters {
 public:
  struct Entry {
    SourcePrefix prefix;
    uint64_t count = 0;  // an upper bound of the prefix's true weight
    uint64_t error = 0;  // count - error is a lower bound
  };

  explicit HeavyHitters(uint32_t capacity);

  void add(const SourcePrefix& prefix, uint64_t weight);
  void clear();

  uint32_t size() const { return size_; }
  uint32_t capacity() const { return capacity_; }
  bool full() const { return size_ == capacity_; }
  // What a prefix without a counter may weigh at most.
  uint64_t floor() const { return full() ? entries_[heap_[0]].count : 0; }
  uint64_t total() const { return total_; }
  const Entry& entry(uint32_t i) const { return entries_[i]; }  // i < size(), in no order
  // The memory the summary holds, fixed at construction.
  size_t bytes() const;

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  uint32_t find_slot(const SourcePrefix& prefix)
      const;  // index slot holding it, or the empty one ending its probe
  void erase_slot(uint32_t slot);
  void sift_down(uint32_t pos);
  void sift_up(uint32_t pos);
  void swap_heap(uint32_t a, uint32_t b);

  uint32_t capacity_;
  uint32_t size_ = 0;
  uint64_t total_ = 0;
  uint32_t index_mask_;
  std::unique_ptr<Entry[]> entries_;
  std::unique_ptr<uint32_t[]> heap_;      // entry indices, min-heap by count
  std::unique_ptr<uint32_t[]> heap_pos_;  // entry index -> heap position
  std::unique_ptr<uint32_t[]> index_;     // open addressing: entry index or kEmpty
};

}  // namespace dnspc
