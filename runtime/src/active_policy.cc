#include "active_policy.h"

namespace dnspc::runtime {

std::unique_ptr<ActivePolicy> bind_policy(std::shared_ptr<const PolicyImage> image, Registry& registry) {
  auto p = std::make_unique<ActivePolicy>();
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
    p->pools.push_back({pool.name, make_lb_pool(pool.policy, std::move(servers), keys), pool.servfail_on_no_server});
  }
  for (const RuleSpec& r : im.rules) p->rule_ids.push_back(static_cast<uint32_t>(registry.find_rule(r.name)));
  for (const std::string& t : im.tags) p->tag_ids.push_back(static_cast<uint32_t>(registry.find_tag(t)));
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
  p->limiters = registry.limiters();
  p->source_tables = registry.source_tables();
  p->image = std::move(image);
  return p;
}

bool acl_allows(const ActivePolicy& p, const NetAddress& address) {
  uint32_t id;
  return prefix_probe(p.acl, address, &id, 1) > 0;
}

}  // namespace dnspc::runtime
