// QPS bounds shared by all workers. A bound is one 64-bit atomic holding the
// "theoretical arrival time" of the generic cell rate algorithm (GCRA): an
// exact token bucket with burst, updated with one compare-and-swap and no
// lock, so N workers never let N times the limit through.
#pragma once

#include <atomic>
#include <cstdint>

namespace dnspc {

struct RateSpec {
  uint64_t interval_ns = 0;   // 1e9 / qps: the spacing one token buys
  uint64_t tolerance_ns = 0;  // burst * interval_ns: how far ahead of time one may run

  static RateSpec per_second(double qps, double burst);
};

class RateLimiter {
 public:
  RateLimiter() = default;
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token at `now_ns` if the bucket has one. Returns true when the
  // query conforms (under the bound); a refused query takes nothing, so a
  // flood still lets exactly the configured rate through.
  bool try_take(const RateSpec& spec, uint64_t now_ns);

  // The state carried over a reload: a client over its limit stays over it.
  uint64_t theoretical_arrival_ns() const { return tat_ns_.load(std::memory_order_relaxed); }
  void restore(uint64_t tat_ns) { tat_ns_.store(tat_ns, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> tat_ns_{0};
};

}  // namespace dnspc
