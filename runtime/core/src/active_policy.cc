#include "dnspc/runtime/active_policy.h"

#include <sys/random.h>

#include <atomic>
#include <string_view>
#include <unordered_map>

namespace dnspc::runtime {

namespace {

// Where each key of `p` is, for copying state between policies.
std::unordered_map<std::string_view, size_t> limiter_index(const ActivePolicy& p) {
  std::unordered_map<std::string_view, size_t> out;
  for (size_t i = 0; i < p.limiter_keys.size(); ++i) out.emplace(p.limiter_keys[i], i);
  return out;
}

}  // namespace

// The pool's cache: the running policy's when its settings are unchanged
// (a reload keeps what it holds), else a new one.
static std::shared_ptr<PoolCache> bind_cache(const PoolSpec& pool, unsigned workers, const ActivePolicy* previous) {
  if (pool.cache.entries == 0) return nullptr;
  if (previous) {
    for (const BoundPool& old : previous->pools) {
      if (old.name == pool.name && old.cache && old.cache->spec == pool.cache) return old.cache;
    }
  }
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&seed));
  return std::make_shared<PoolCache>(pool.cache, workers, seed);
}

std::unique_ptr<ActivePolicy> bind_policy(std::shared_ptr<const PolicyImage> image, Registry& registry,
                                          const ActivePolicy* previous, const RegistryPlan* plan) {
  static std::atomic<uint64_t> generations{0};
  auto p = std::make_unique<ActivePolicy>();
  p->generation = generations.fetch_add(1) + 1;
  const PolicyImage& im = *image;
  p->decide = im.decide;
  for (const PoolSpec& pool : im.pools) {
    std::vector<LbServer> servers;
    std::vector<std::string> keys;
    for (const ServerSpec& s : pool.servers) {
      int id = registry.find_server(pool.name, s.address);
      if (id < 0) continue;  // the registry was built from this image: cannot happen
      servers.push_back({static_cast<uint32_t>(id), s.weight ? s.weight : 1, s.order, s.qps});
      keys.push_back(s.address.to_string(true));
    }
    p->pools.push_back(
        {pool.name, make_lb_pool(pool.policy, std::move(servers), keys), pool.servfail_on_no_server,
         bind_cache(pool, registry.worker_count(), previous), pool.cache_stale_on_timeout});
  }
  if (!im.dynblocks.empty()) {
    p->blocks = std::make_unique<BlockEngine>(im.dynblocks, BlockEngineOptions{registry.worker_count(), kBlockCapacity});
  }
  if (plan && plan->resolved && plan->image == &im && plan->rule_ids.size() == im.rules.size() + im.response_rules.size() &&
      plan->tag_ids.size() == im.tags.size()) {
    const auto response = plan->rule_ids.begin() + static_cast<std::ptrdiff_t>(im.rules.size());
    p->rule_ids.assign(plan->rule_ids.begin(), response);
    p->response_rule_ids.assign(response, plan->rule_ids.end());
    p->tag_ids = plan->tag_ids;
  } else {
    for (const RuleSpec& r : im.rules) p->rule_ids.push_back(static_cast<uint32_t>(registry.find_rule(r.name)));
    for (const ResponseRuleSpec& r : im.response_rules) {
      p->response_rule_ids.push_back(static_cast<uint32_t>(registry.find_rule(r.name)));
    }
    for (const std::string& t : im.tags) p->tag_ids.push_back(static_cast<uint32_t>(registry.find_tag(t)));
  }
  for (const SpoofSetSpec& set : im.spoof_sets) {
    std::vector<SpoofRecord> records;
    for (const SpoofRecordSpec& r : set.records) records.push_back({r.type, set.ttl, r.data});
    p->spoof.push_back(std::move(records));
  }
  PrefixIndexBuilder acl;
  for (const Prefix& pr : im.acl) (void)acl.add(pr.address, pr.length, 0);
  p->acl = acl.build();
  p->acl_drop = im.options.acl_drop;
  p->timeout_servfail = im.options.timeout_servfail;
  p->udp_timeout_ns = im.options.udp_timeout_ms * 1'000'000ull;
  p->max_outstanding = im.options.max_outstanding ? im.options.max_outstanding : 1;
  size_t nl = im.limiters.size();
  p->limiter_keys = Registry::limiter_keys(im);
  p->limiter_storage = std::make_unique<RateLimiter[]>(nl ? nl : 1);
  if (previous) {
    auto before = limiter_index(*previous);
    for (size_t i = 0; i < nl; ++i) {
      auto it = before.find(p->limiter_keys[i]);
      if (it != before.end()) p->limiter_storage[i].restore(previous->limiter_storage[it->second].theoretical_arrival_ns());
    }
  }
  for (size_t i = 0; i < nl; ++i) {
    p->source_table_owners.push_back(im.limiters[i].per_source ? registry.source_table(p->limiter_keys[i], im.limiters[i])
                                                               : nullptr);
    p->source_table_ptrs.push_back(p->source_table_owners.back().get());
  }
  if (p->source_table_ptrs.empty()) p->source_table_ptrs.push_back(nullptr);
  p->limiters = p->limiter_storage.get();
  p->source_tables = p->source_table_ptrs.data();
  p->server_qps.assign(registry.server_count(), RateSpec{});
  p->server_live.assign(registry.server_count(), 0);
  for (const BoundPool& pool : p->pools) {
    for (const LbServer& s : pool.lb.servers) {
      p->server_live[s.id] = 1;
      if (s.qps) p->server_qps[s.id] = RateSpec::per_second(s.qps, s.qps);
    }
  }
  p->image = std::move(image);
  return p;
}

void carry_limiter_state(const ActivePolicy& from, ActivePolicy& to) {
  auto before = limiter_index(from);
  for (size_t i = 0; i < to.limiter_keys.size(); ++i) {
    auto it = before.find(to.limiter_keys[i]);
    if (it == before.end()) continue;
    uint64_t old_tat = from.limiter_storage[it->second].theoretical_arrival_ns();
    // A take racing this store loses at most one token of the new bound.
    if (old_tat > to.limiter_storage[i].theoretical_arrival_ns()) to.limiter_storage[i].restore(old_tat);
  }
}

bool acl_allows(const ActivePolicy& p, const NetAddress& address) {
  uint32_t id;
  return prefix_probe(p.acl, address, &id, 1) > 0;
}

}  // namespace dnspc::runtime
