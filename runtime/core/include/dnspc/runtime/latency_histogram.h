// Latency of backend answers as a distribution: log-spaced buckets from
// 10 microseconds to 10 seconds, four a decade (so a quantile read from them
// is within a factor of 10^(1/4) = 1.78 of the truth), plus one for what is
// slower. Each worker adds to its own (plain single-writer counters, no
// atomic read-modify-write); the control thread sums snapshots.
#pragma once

#include <array>
#include <cstdint>

#include "dnspc/runtime/counter.h"

namespace dnspc::runtime {

struct LatencyBuckets {
  static constexpr unsigned kPerDecade = 4;
  static constexpr unsigned kDecades = 6;                        // 10 us .. 10 s
  static constexpr unsigned kBounds = kPerDecade * kDecades + 1;  // 10 us, 18 us, ..., 10 s
  static constexpr unsigned kCount = kBounds + 1;                 // the last: over 10 s

  // The inclusive upper bound of bucket i < kBounds, in microseconds.
  static uint64_t upper_us(unsigned i);
  static unsigned bucket_of(uint64_t us);
};

class LatencyHistogram {
 public:
  void record(uint64_t us) {
    counts_[LatencyBuckets::bucket_of(us)].add();
    sum_us_.add(us);
  }
  uint64_t count(unsigned bucket) const { return counts_[bucket].get(); }
  uint64_t sum_us() const { return sum_us_.get(); }

 private:
  std::array<Counter, LatencyBuckets::kCount> counts_;
  Counter sum_us_;
};

// A sum of histograms, read on the control thread.
struct LatencySnapshot {
  std::array<uint64_t, LatencyBuckets::kCount> counts{};
  uint64_t count = 0;
  uint64_t sum_us = 0;

  void add(const LatencyHistogram& h);
  // The q-quantile (0 < q < 1) in microseconds, interpolated geometrically
  // inside its bucket; 0 with no samples; 10 s for the overflow bucket.
  double quantile_us(double q) const;
};

}  // namespace dnspc::runtime
