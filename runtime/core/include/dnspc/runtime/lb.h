// Load balancing: which server of a pool gets a query. Pure functions over a
// pool's static description and a State the caller provides (health,
// outstanding counts, latency, QPS limits, random numbers), so the worker's
// inlined calls cost no indirection and tests can drive them with a fake.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dnspc/flat_hash.h"
#include "dnspc/query_view.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::runtime {

struct LbServer {
  uint32_t id = 0;  // registry server id
  uint32_t weight = 1;
  uint32_t order = 1;
  uint32_t qps = 0;  // 0: no limit
};

struct RingPoint {
  uint32_t point = 0;
  uint32_t server = 0;  // index into LbPool::servers
  friend bool operator<(const RingPoint& a, const RingPoint& b) {
    return a.point != b.point ? a.point < b.point : a.server < b.server;
  }
};

struct LbPool {
  LbPolicy policy = LbPolicy::kRoundRobin;
  std::vector<LbServer> servers;   // as declared
  std::vector<uint32_t> by_order;  // indices into servers: ascending order, then as declared
  std::vector<RingPoint> ring;     // consistent_hash: `weight` points per server, sorted
};

// The ring key of a server is its address and port, so a server keeps its
// points whatever pool or position it has.
LbPool make_lb_pool(LbPolicy policy, std::vector<LbServer> servers, const std::vector<std::string>& ring_keys);

// The fixed-seed hash of the lower-cased qname, for hashed and consistent_hash.
inline uint64_t qname_hash(const QueryView& q) {
  constexpr uint64_t kSeed = 0x5bd1e9955bd1e995ull;
  return flat::mix64(flat::hash_bytes(q.qname_lower, q.qname_length) ^ kSeed);
}

// State must provide:
//   bool usable(uint32_t id)            up and below its outstanding bound
//   uint32_t outstanding(uint32_t id)   queries in flight (this worker)
//   uint32_t latency_us(uint32_t id)    smoothed answer latency
//   bool take_qps(const LbServer& s)    takes a token from s's shared QPS limit
//   uint64_t random()
//   uint32_t& round_robin()             this pool's round-robin position
// Returns an index into pool.servers, or -1 when no server is usable.
template <class State>
int least_outstanding(const LbPool& pool, State& st) {
  int best = -1;
  uint32_t best_out = 0, best_lat = 0;
  // by_order visits ties by order first, then declaration; latency breaks
  // ties of equal order.
  for (uint32_t i : pool.by_order) {
    const LbServer& s = pool.servers[i];
    if (!st.usable(s.id)) continue;
    uint32_t out = st.outstanding(s.id);
    if (best < 0) {
      best = static_cast<int>(i);
      best_out = out;
      best_lat = st.latency_us(s.id);
      continue;
    }
    if (out > best_out) continue;
    const LbServer& b = pool.servers[static_cast<uint32_t>(best)];
    if (out == best_out) {
      if (s.order > b.order) continue;
      uint32_t lat = st.latency_us(s.id);
      if (s.order == b.order && lat >= best_lat) continue;
      best = static_cast<int>(i);
      best_lat = lat;
      continue;
    }
    best = static_cast<int>(i);
    best_out = out;
    best_lat = st.latency_us(s.id);
  }
  return best;
}

template <class State>
int weighted_pick(const LbPool& pool, State& st, uint64_t r) {
  uint64_t total = 0;
  for (const LbServer& s : pool.servers) {
    if (st.usable(s.id)) total += s.weight;
  }
  if (total == 0) return -1;
  uint64_t x = r % total;
  for (uint32_t i = 0; i < pool.servers.size(); ++i) {
    const LbServer& s = pool.servers[i];
    if (!st.usable(s.id)) continue;
    if (x < s.weight) return static_cast<int>(i);
    x -= s.weight;
  }
  return -1;
}

template <class State>
int select_server(const LbPool& pool, const QueryView& q, State& st) {
  const uint32_t n = static_cast<uint32_t>(pool.servers.size());
  if (n == 0) return -1;
  switch (pool.policy) {
    case LbPolicy::kRoundRobin: {
      uint32_t& pos = st.round_robin();
      for (uint32_t k = 0; k < n; ++k) {
        uint32_t i = (pos + k) % n;
        if (st.usable(pool.servers[i].id)) {
          pos = i + 1;
          return static_cast<int>(i);
        }
      }
      return -1;
    }
    case LbPolicy::kLeastOutstanding:
      return least_outstanding(pool, st);
    case LbPolicy::kFirstAvailable: {
      for (uint32_t i : pool.by_order) {
        const LbServer& s = pool.servers[i];
        if (!st.usable(s.id)) continue;
        if (s.qps == 0 || st.take_qps(s)) return static_cast<int>(i);
      }
      return least_outstanding(pool, st);
    }
    case LbPolicy::kWeightedRandom:
      return weighted_pick(pool, st, st.random());
    case LbPolicy::kHashed:
      return weighted_pick(pool, st, qname_hash(q));
    case LbPolicy::kLua:  // the worker asks the pool's Lua hook; this is its fallback
      return least_outstanding(pool, st);
    case LbPolicy::kConsistentHash: {
      if (pool.ring.empty()) return -1;
      bool any = false;
      for (const LbServer& s : pool.servers) any = any || st.usable(s.id);
      if (!any) return -1;
      const uint32_t h = static_cast<uint32_t>(qname_hash(q) >> 32);
      auto it = std::lower_bound(pool.ring.begin(), pool.ring.end(), RingPoint{h, 0});
      size_t start = static_cast<size_t>(it - pool.ring.begin());
      for (size_t k = 0; k < pool.ring.size(); ++k) {
        const RingPoint& p = pool.ring[(start + k) % pool.ring.size()];
        if (st.usable(pool.servers[p.server].id)) return static_cast<int>(p.server);
      }
      return -1;
    }
  }
  return -1;
}

}  // namespace dnspc::runtime
