#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "dnspc/decision_state.h"
#include "dnspc/rate_limiter.h"

using namespace dnspc;

namespace {
constexpr uint64_t kSecond = 1'000'000'000;
}

TEST_CASE("a bound lets its burst through at once, then its rate", "[rate]") {
  RateLimiter limiter;
  RateSpec spec = RateSpec::per_second(5, 5);
  uint64_t t = 10 * kSecond;
  int passed = 0;
  for (int i = 0; i < 20; ++i) passed += limiter.try_take(spec, t);
  CHECK(passed == 5);
  // A second later, five more tokens have accrued, and no more.
  t += kSecond;
  passed = 0;
  for (int i = 0; i < 20; ++i) passed += limiter.try_take(spec, t);
  CHECK(passed == 5);
}

TEST_CASE("a steady flow at the rate always conforms", "[rate]") {
  RateLimiter limiter;
  RateSpec spec = RateSpec::per_second(100, 1);
  uint64_t t = kSecond;
  for (int i = 0; i < 1000; ++i, t += kSecond / 100) REQUIRE(limiter.try_take(spec, t));
  // Twice the rate: every other query refused.
  int passed = 0;
  for (int i = 0; i < 1000; ++i, t += kSecond / 200) passed += limiter.try_take(spec, t);
  CHECK(passed == Approx(500).margin(2));
}

TEST_CASE("refused queries cost nothing; state restores", "[rate]") {
  RateLimiter a;
  RateSpec spec = RateSpec::per_second(1, 1);
  CHECK(a.try_take(spec, kSecond));
  for (int i = 0; i < 100; ++i) CHECK_FALSE(a.try_take(spec, kSecond + 1));
  CHECK(a.try_take(spec, 2 * kSecond));
  RateLimiter b;
  b.restore(a.theoretical_arrival_ns());
  CHECK_FALSE(b.try_take(spec, 2 * kSecond + 1));
}

TEST_CASE("workers sharing a bound never exceed it together", "[rate]") {
  RateLimiter limiter;
  RateSpec spec = RateSpec::per_second(1000, 1000);
  std::atomic<int> passed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) passed += limiter.try_take(spec, kSecond);
    });
  }
  for (auto& t : workers) t.join();
  CHECK(passed == 1000);
}

TEST_CASE("the shared random source never sticks at zero", "[rate]") {
  uint64_t s = 1;
  for (int i = 0; i < 1000; ++i) REQUIRE(next_random(s) != 0);
}
