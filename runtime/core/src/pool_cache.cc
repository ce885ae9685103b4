#include "dnspc/runtime/pool_cache.h"

namespace dnspc::runtime {

PoolCache::PoolCache(const CacheSpec& s, unsigned worker_count, uint64_t seed)
    : spec(s),
      store(s.entries, s.entry_size, seed),
      workers(worker_count ? worker_count : 1),
      counters(std::make_unique<CacheCounters[]>(workers)) {
  ttls.min_ttl = s.min_ttl_s;
  ttls.max_ttl = s.max_ttl_s;
  ttls.max_negative_ttl = s.max_negative_ttl_s;
  ttls.servfail_ttl = s.servfail_ttl_s;
  stale_ns = uint64_t{s.stale_s} * 1'000'000'000;
}

}  // namespace dnspc::runtime
