#include "registry.h"

namespace dnspc::runtime {

std::string Registry::server_key(const std::string& pool, const NetAddress& address) {
  return pool + "/" + address.to_string(true);
}

Registry::Registry(const PolicyImage& image, unsigned workers) {
  for (const PoolSpec& pool : image.pools) {
    for (const ServerSpec& s : pool.servers) {
      std::string key = server_key(pool.name, s.address);
      if (server_ids_.count(key)) continue;
      auto e = std::make_unique<ServerEntry>();
      e->key = key;
      e->pool = pool.name;
      e->spec = s;
      e->up.store(s.mode != ServerMode::kDown, std::memory_order_relaxed);
      if (s.qps) e->qps_spec = RateSpec::per_second(s.qps, s.qps);
      server_ids_[key] = static_cast<uint32_t>(servers_.size());
      servers_.push_back(std::move(e));
    }
  }
  for (const RuleSpec& r : image.rules) {
    if (rule_ids_.count(r.name)) continue;
    rule_ids_[r.name] = static_cast<uint32_t>(rules_.size());
    rules_.push_back(r.name);
  }
  for (const std::string& t : image.tags) {
    if (tag_ids_.count(t)) continue;
    tag_ids_[t] = static_cast<uint32_t>(tags_.size());
    tags_.push_back(t);
  }
  size_t nl = image.limiters.size();
  limiters_ = std::make_unique<RateLimiter[]>(nl ? nl : 1);
  for (const LimiterSpec& l : image.limiters) {
    source_tables_.push_back(l.per_source ? std::make_unique<SourceRateTable>(l.spec, l.v4_prefix, l.v6_prefix,
                                                                              l.table_size ? l.table_size : 65536)
                                          : nullptr);
    source_table_ptrs_.push_back(source_tables_.back().get());
  }
  if (source_table_ptrs_.empty()) source_table_ptrs_.push_back(nullptr);
  for (unsigned w = 0; w < workers; ++w) {
    auto c = std::make_unique<WorkerCounters>();
    c->rule_hits = std::make_unique<Counter[]>(rules_.size() + 1);
    c->tag_hits = std::make_unique<Counter[]>(tags_.size() + 1);
    c->servers = std::make_unique<ServerCounters[]>(servers_.size() + 1);
    workers_.push_back(std::move(c));
  }
}

int Registry::find_server(const std::string& pool, const NetAddress& address) const {
  auto it = server_ids_.find(server_key(pool, address));
  return it == server_ids_.end() ? -1 : static_cast<int>(it->second);
}

int Registry::find_rule(const std::string& name) const {
  auto it = rule_ids_.find(name);
  return it == rule_ids_.end() ? -1 : static_cast<int>(it->second);
}

int Registry::find_tag(const std::string& name) const {
  auto it = tag_ids_.find(name);
  return it == tag_ids_.end() ? -1 : static_cast<int>(it->second);
}

}  // namespace dnspc::runtime
