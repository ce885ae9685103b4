// A pool's packet cache as the runtime holds it: the shared store
// (packet_cache.h), its settings, and per-worker counters (each written by
// its worker only, summed by `cache` and the metrics). Owned by the bound
// policies that use it: a reload that leaves a pool's cache settings alone
// hands the same object to the next policy (docs/cache.md).
#pragma once

#include <cstdint>
#include <memory>

#include "dnspc/cache_wire.h"
#include "dnspc/packet_cache.h"
#include "dnspc/runtime/counter.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::runtime {

struct alignas(64) CacheCounters {
  Counter hits;             // fresh answers served
  Counter misses;           // looked up, not found (or expired): forwarded
  Counter collisions;       // a hash tag matched another key (a miss)
  Counter stale_served;     // no server of the pool usable, or a timeout with stale_on_timeout
  Counter stored;           // backend answers stored
  Counter evictions;        // stores that replaced a live entry (CLOCK)
  Counter insert_failures;  // stores given up: another worker was writing the slot
  Counter not_cacheable;    // backend answers not kept (TC, rcode, no TTL, too large, signed)
};

struct PoolCache {
  PoolCache(const CacheSpec& spec, unsigned workers, uint64_t seed);

  CacheSpec spec;
  CacheTtls ttls;
  uint64_t stale_ns = 0;
  PacketCache store;
  unsigned workers;
  std::unique_ptr<CacheCounters[]> counters;  // one per worker

  uint64_t sum(Counter CacheCounters::*field) const {
    uint64_t n = 0;
    for (unsigned w = 0; w < workers; ++w) n += (counters[w].*field).get();
    return n;
  }
};

}  // namespace dnspc::runtime
