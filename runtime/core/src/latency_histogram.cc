#include "dnspc/runtime/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace dnspc::runtime {

namespace {

constexpr double kFirstBoundUs = 10;

std::array<uint64_t, LatencyBuckets::kBounds> make_bounds() {
  std::array<uint64_t, LatencyBuckets::kBounds> b{};
  for (unsigned i = 0; i < LatencyBuckets::kBounds; ++i) {
    b[i] = static_cast<uint64_t>(
        std::llround(kFirstBoundUs * std::pow(10.0, static_cast<double>(i) / LatencyBuckets::kPerDecade)));
  }
  return b;
}

const std::array<uint64_t, LatencyBuckets::kBounds> kBoundsUs = make_bounds();

}  // namespace

uint64_t LatencyBuckets::upper_us(unsigned i) { return kBoundsUs[i]; }

unsigned LatencyBuckets::bucket_of(uint64_t us) {
  // 25 bounds: a branch-predictable binary search is a handful of compares.
  return static_cast<unsigned>(std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us) - kBoundsUs.begin());
}

void LatencySnapshot::add(const LatencyHistogram& h) {
  for (unsigned i = 0; i < LatencyBuckets::kCount; ++i) {
    uint64_t n = h.count(i);
    counts[i] += n;
    count += n;
  }
  sum_us += h.sum_us();
}

double LatencySnapshot::quantile_us(double q) const {
  if (count == 0) return 0;
  const double rank = q * static_cast<double>(count);
  double below = 0;
  for (unsigned i = 0; i < LatencyBuckets::kCount; ++i) {
    const double n = static_cast<double>(counts[i]);
    if (n == 0 || below + n < rank) {
      below += n;
      continue;
    }
    if (i == LatencyBuckets::kBounds) return static_cast<double>(kBoundsUs.back());
    const double hi = static_cast<double>(kBoundsUs[i]);
    const double fraction = std::clamp((rank - below) / n, 0.0, 1.0);
    if (i == 0) return hi * fraction;  // 0 .. 10 us: linear
    const double lo = static_cast<double>(kBoundsUs[i - 1]);
    return lo * std::pow(hi / lo, fraction);
  }
  return static_cast<double>(kBoundsUs.back());
}

}  // namespace dnspc::runtime
