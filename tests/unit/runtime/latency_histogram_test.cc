// Latency buckets: log-spaced 10 us .. 10 s, four a decade; quantiles read
// from them stay inside the bucket that holds the rank.
#include <catch2/catch.hpp>

#include "dnspc/runtime/latency_histogram.h"

using dnspc::runtime::LatencyBuckets;
using dnspc::runtime::LatencyHistogram;
using dnspc::runtime::LatencySnapshot;

TEST_CASE("latency buckets are log-spaced from 10 us to 10 s", "[runtime][latency]") {
  CHECK(LatencyBuckets::upper_us(0) == 10);
  CHECK(LatencyBuckets::upper_us(4) == 100);
  CHECK(LatencyBuckets::upper_us(8) == 1000);
  CHECK(LatencyBuckets::upper_us(LatencyBuckets::kBounds - 1) == 10'000'000);
  for (unsigned i = 1; i < LatencyBuckets::kBounds; ++i) CHECK(LatencyBuckets::upper_us(i) > LatencyBuckets::upper_us(i - 1));
  CHECK(LatencyBuckets::bucket_of(0) == 0);
  CHECK(LatencyBuckets::bucket_of(10) == 0);   // bounds are inclusive
  CHECK(LatencyBuckets::bucket_of(11) == 1);
  CHECK(LatencyBuckets::bucket_of(1000) == 8);
  CHECK(LatencyBuckets::bucket_of(10'000'000) == LatencyBuckets::kBounds - 1);
  CHECK(LatencyBuckets::bucket_of(10'000'001) == LatencyBuckets::kBounds);  // the overflow bucket
  CHECK(LatencyBuckets::bucket_of(UINT64_MAX) == LatencyBuckets::kBounds);
}

TEST_CASE("quantiles of a summed snapshot fall in the right bucket", "[runtime][latency]") {
  LatencyHistogram a, b;
  for (int i = 0; i < 900; ++i) a.record(150);     // 100..178 us
  for (int i = 0; i < 90; ++i) b.record(5'000);    // 3162..5623 us
  for (int i = 0; i < 10; ++i) b.record(2'000'000);  // 1.78..3.16 s
  LatencySnapshot s;
  s.add(a);
  s.add(b);
  CHECK(s.count == 1000);
  CHECK(s.sum_us == 900 * 150 + 90 * 5'000 + 10 * 2'000'000ull);
  CHECK(s.quantile_us(0.5) > 100);
  CHECK(s.quantile_us(0.5) <= 178);
  CHECK(s.quantile_us(0.95) > 3162);
  CHECK(s.quantile_us(0.95) <= 5623);
  CHECK(s.quantile_us(0.999) > 1'778'279);
  CHECK(s.quantile_us(0.999) <= 3'162'278);
  CHECK(s.quantile_us(0.5) <= s.quantile_us(0.9));
  CHECK(LatencySnapshot{}.quantile_us(0.5) == 0);
}
