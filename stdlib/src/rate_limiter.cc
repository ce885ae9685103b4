#include "dnspc/rate_limiter.h"

#include <algorithm>

namespace dnspc {

RateSpec RateSpec::per_second(double qps, double burst) {
  RateSpec spec;
  if (qps <= 0) {  // "never": sema rejects it, but stay defined
    spec.interval_ns = UINT64_MAX;
    return spec;
  }
  spec.interval_ns = std::max<uint64_t>(1, static_cast<uint64_t>(1e9 / qps));
  // A burst of b lets b queries through at once: the first costs nothing
  // ahead of time, each further one runs one interval ahead.
  double ahead = std::max(0.0, burst - 1.0) * static_cast<double>(spec.interval_ns);
  spec.tolerance_ns = static_cast<uint64_t>(ahead);
  return spec;
}

bool RateLimiter::try_take(const RateSpec& spec, uint64_t now_ns) {
  uint64_t tat = tat_ns_.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t start = std::max(tat, now_ns);
    if (start - now_ns > spec.tolerance_ns) return false;
    uint64_t next = spec.interval_ns == UINT64_MAX ? UINT64_MAX : start + spec.interval_ns;
    if (tat_ns_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
  }
}

}  // namespace dnspc
