#include "dnspc/runtime/lb.h"

#include <algorithm>
#include <numeric>

namespace dnspc::runtime {

const char* lb_policy_name(LbPolicy p) {
  switch (p) {
    case LbPolicy::kRoundRobin: return "round_robin";
    case LbPolicy::kLeastOutstanding: return "least_outstanding";
    case LbPolicy::kFirstAvailable: return "first_available";
    case LbPolicy::kWeightedRandom: return "weighted_random";
    case LbPolicy::kHashed: return "hashed";
    case LbPolicy::kConsistentHash: return "consistent_hash";
    case LbPolicy::kLua: return "lua";
  }
  return "?";
}

LbPool make_lb_pool(LbPolicy policy, std::vector<LbServer> servers, const std::vector<std::string>& ring_keys) {
  LbPool pool;
  pool.policy = policy;
  pool.servers = std::move(servers);
  pool.by_order.resize(pool.servers.size());
  std::iota(pool.by_order.begin(), pool.by_order.end(), 0u);
  std::stable_sort(pool.by_order.begin(), pool.by_order.end(), [&](uint32_t a, uint32_t b) {
    return pool.servers[a].order < pool.servers[b].order;
  });
  if (policy == LbPolicy::kConsistentHash) {
    for (uint32_t i = 0; i < pool.servers.size(); ++i) {
      const std::string& key = i < ring_keys.size() ? ring_keys[i] : std::string();
      uint64_t base = flat::hash_bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size());
      for (uint32_t p = 0; p < pool.servers[i].weight; ++p) {
        uint32_t point = static_cast<uint32_t>(flat::mix64(base + p * flat::kMulA) >> 32);
        pool.ring.push_back({point, i});
      }
    }
    std::sort(pool.ring.begin(), pool.ring.end());
  }
  return pool;
}

}  // namespace dnspc::runtime
