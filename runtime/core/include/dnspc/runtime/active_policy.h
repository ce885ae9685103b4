// A policy image bound to the registry: what a worker reads through the swap
// point. Immutable once built; workers load the pointer once per batch. A
// reload binds a new one next to the running one and frees the old one when
// every worker has acknowledged the new (docs/runtime.md, "Hot reload").
#pragma once

#include <cstdint>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/dynblock_engine.h"
#include "dnspc/prefix_index.h"
#include "dnspc/runtime/policy_image.h"
#include "dnspc/wire.h"
#include "dnspc/runtime/lb.h"
#include "dnspc/runtime/lua_states.h"
#include "dnspc/runtime/pool_cache.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

struct BoundPool {
  std::string name;
  LbPool lb;
  bool servfail_on_no_server = false;
  std::shared_ptr<PoolCache> cache;  // null: the pool has none
  bool cache_stale_on_timeout = false;  // PoolSpec's
};

struct ActivePolicy {
  // Unique per bound policy: an answer to a query forwarded under another
  // policy is not stored in a cache (the pool it names may be another one).
  uint64_t generation = 0;
  std::shared_ptr<const PolicyImage> image;
  Decider decide;
  std::vector<BoundPool> pools;
  std::vector<uint32_t> rule_ids;  // image rule index -> registry rule id
  std::vector<uint32_t> response_rule_ids;  // image response rule index -> registry rule id
  std::vector<uint32_t> tag_ids;   // image tag bit -> registry tag id
  // Spoof sets as codec records; their data points into `image`.
  std::vector<std::vector<SpoofRecord>> spoof;
  PrefixIndex acl;
  bool acl_drop = false;
  bool timeout_servfail = false;
  uint64_t udp_timeout_ns = 2'000'000'000;
  unsigned max_outstanding = 10'000;
  RateLimiter* limiters = nullptr;
  SourceRateTable* const* source_tables = nullptr;
  // Global QPS bounds: DecisionState wants them contiguous in the policy's
  // order, so each policy has its own array, its state copied by key
  // (Registry::limiter_keys) from the policy it replaces.
  std::unique_ptr<RateLimiter[]> limiter_storage;
  std::vector<std::string> limiter_keys;
  // Per-source tables: shared with the registry (and the next policy).
  std::vector<std::shared_ptr<SourceRateTable>> source_table_owners;
  std::vector<SourceRateTable*> source_table_ptrs;
  // By registry server id: the server's QPS limit (first_available), and
  // whether this policy uses it (workers open and close sockets by it).
  std::vector<RateSpec> server_qps;
  std::vector<uint8_t> server_live;
  // The dynamic-block engine of this policy's blocks (null without any):
  // workers record into its recorders and look up its blocks; the main
  // thread evaluates the published policy's engine every second. A reload
  // carries rings and blocks over by name just before it publishes.
  std::unique_ptr<BlockEngine> blocks;
  // The kernel fast path (docs/xdp.md, "Runtime"): the XDP program on
  // interface kernel_ifindex evaluated rules [0, kernel_rules) for a UDP
  // query it passed up with the DNS header's Z bit set, so user space starts
  // after them. Trusted from kernel_trust_from_ns on (CLOCK_MONOTONIC): a
  // reload sets it to "never" before the kernel program changes, so a query
  // the next program marked is never read under this policy's prefix.
  uint32_t kernel_rules = 0;
  int kernel_ifindex = 0;
  mutable std::atomic<uint64_t> kernel_trust_from_ns{UINT64_MAX};
  // Lua hooks: worker w runs lua[w] (empty without hooks). Built before the
  // policy is published (lua_states.h) and closed when it is freed.
  LuaStates lua;
};

// Counters per block summary (per block, worker and second): a source over
// its bound is always caught while a worker sees fewer than this many times
// the bound in events per second (docs/dynblocks.md).
constexpr uint32_t kBlockCapacity = 4096;

// Binds `image` to the registry (which update() has made aware of it).
// `previous`: the running policy, whose QPS bound state carries over by key.
// `plan`: the one update() took, whose ids it resolved; without it, names
// are looked up again.
std::unique_ptr<ActivePolicy> bind_policy(std::shared_ptr<const PolicyImage> image, Registry& registry,
                                          const ActivePolicy* previous = nullptr,
                                          const RegistryPlan* plan = nullptr);

// After the swap: what `from` charged while workers still ran it. Each bound
// keeps the later of the two arrival times (a client over its limit in either
// stays over it).
void carry_limiter_state(const ActivePolicy& from, ActivePolicy& to);

// True when the ACL holds `address`.
bool acl_allows(const ActivePolicy& p, const NetAddress& address);

}  // namespace dnspc::runtime
