#include "dnspc/runtime/registry.h"

#include <unordered_set>

namespace dnspc::runtime {

namespace {

bool same_rule(const RuleSpec& a, const RuleSpec& b) {
  return a.action == b.action && a.argument == b.argument && a.modifiers == b.modifiers && a.tag_bits == b.tag_bits &&
         a.delay_ms == b.delay_ms && a.fingerprint == b.fingerprint;
}

bool same_table(const LimiterSpec& a, const LimiterSpec& b) {
  return a.spec.interval_ns == b.spec.interval_ns && a.spec.tolerance_ns == b.spec.tolerance_ns &&
         a.v4_prefix == b.v4_prefix && a.v6_prefix == b.v6_prefix && a.table_size == b.table_size;
}

}  // namespace

void ServerEntry::force(ServerMode mode, std::string when) {
  if (mode == ServerMode::kAuto) {
    if (forced != ServerMode::kAuto) up.store(checked_up, std::memory_order_relaxed);
    forced = ServerMode::kAuto;
    forced_at.clear();
    return;
  }
  if (forced == ServerMode::kAuto) checked_up = up.load(std::memory_order_relaxed);
  forced = mode;
  forced_at = std::move(when);
  up.store(mode == ServerMode::kUp, std::memory_order_relaxed);
}

std::string Registry::server_key(const std::string& pool, const NetAddress& address) {
  return pool + "/" + address.to_string(true);
}

Registry::Registry(const PolicyImage& image, unsigned workers) {
  for (unsigned w = 0; w < workers; ++w) {
    workers_.push_back(std::make_unique<WorkerCounters>());
    rings_.push_back(std::make_unique<WorkerRings>(image.options.ring_entries));
  }
  RegistryChanges changes;
  std::string error;
  (void)update(image, nullptr, changes, error);  // a first policy cannot fill the id spaces
}

bool Registry::update(const PolicyImage& next, const PolicyImage* previous, RegistryChanges& changes,
                      std::string& error) {
  // Servers: new keys get new ids; kept ones take the new spec.
  std::unordered_set<uint32_t> live_servers;
  for (const PoolSpec& pool : next.pools) {
    for (const ServerSpec& s : pool.servers) {
      std::string key = server_key(pool.name, s.address);
      auto it = server_ids_.find(key);
      uint32_t id;
      if (it == server_ids_.end()) {
        if (!servers_.grow(server_count_ + 1)) {
          error = "more servers than the runtime can hold over its lifetime";
          return false;
        }
        id = static_cast<uint32_t>(server_count_++);
        ServerEntry& e = servers_[id];
        e.key = key;
        e.pool = pool.name;
        e.up.store(s.mode != ServerMode::kDown, std::memory_order_relaxed);
        server_ids_.emplace(key, id);
        if (previous) changes.servers_added.push_back(id);
      } else {
        id = it->second;
        ServerEntry& e = servers_[id];
        // Forced states apply at once; auto keeps the health it had.
        // An operator's override stays in force over either.
        if (s.mode != ServerMode::kAuto && s.mode != e.spec.mode) e.set_health_up(s.mode == ServerMode::kUp);
        if (!e.live && previous) changes.servers_added.push_back(id);  // back after a reload without it
      }
      servers_[id].spec = s;
      live_servers.insert(id);
    }
  }
  for (uint32_t id = 0; id < server_count_; ++id) {
    ServerEntry& e = servers_[id];
    bool live = live_servers.count(id) != 0;
    if (e.live && !live) changes.servers_removed.push_back(id);
    e.live = live;
  }

  // Rules and tags: by name.
  std::fill(rule_live_.begin(), rule_live_.end(), 0);
  // Response rules share the rules' names (sema keeps them unique) and
  // their hit counters.
  auto add_rule = [&](const std::string& name) {
    auto [it, added] = rule_ids_.emplace(name, static_cast<uint32_t>(rules_.size()));
    if (added) {
      rules_.push_back(name);
      rule_live_.push_back(0);
    }
    rule_live_[it->second] = 1;
  };
  for (const RuleSpec& r : next.rules) add_rule(r.name);
  for (const ResponseRuleSpec& r : next.response_rules) add_rule(r.name);
  std::fill(tag_live_.begin(), tag_live_.end(), 0);
  for (const std::string& t : next.tags) {
    auto [it, added] = tag_ids_.emplace(t, static_cast<uint32_t>(tags_.size()));
    if (added) {
      tags_.push_back(t);
      tag_live_.push_back(0);
    }
    tag_live_[it->second] = 1;
  }
  if (!grow_counters(error)) return false;

  // Per-source QPS tables: only the current policy's stay in the map (the
  // running policy keeps its own alive until it is freed).
  std::unordered_map<std::string, SourceTableEntry> kept;
  std::vector<std::string> keys = limiter_keys(next);
  for (size_t i = 0; i < next.limiters.size(); ++i) {
    auto it = source_tables_.find(keys[i]);
    if (it != source_tables_.end() && next.limiters[i].per_source && same_table(it->second.spec, next.limiters[i])) {
      kept.emplace(keys[i], std::move(it->second));
    }
  }
  source_tables_ = std::move(kept);

  if (previous) {
    std::unordered_map<std::string_view, const RuleSpec*> before;
    for (const RuleSpec& r : previous->rules) before.emplace(r.name, &r);
    std::unordered_set<std::string_view> now;
    for (const RuleSpec& r : next.rules) {
      now.insert(r.name);
      auto it = before.find(r.name);
      if (it == before.end()) {
        ++changes.rules_added;
      } else if (!same_rule(*it->second, r)) {
        ++changes.rules_changed;
      }
    }
    for (const RuleSpec& r : previous->rules) changes.rules_removed += now.count(r.name) ? 0 : 1;
    std::unordered_set<std::string_view> pools_before, pools_now;
    for (const PoolSpec& p : previous->pools) pools_before.insert(p.name);
    for (const PoolSpec& p : next.pools) {
      pools_now.insert(p.name);
      if (!pools_before.count(p.name)) changes.pools_added.push_back(p.name);
    }
    for (const PoolSpec& p : previous->pools) {
      if (!pools_now.count(p.name)) changes.pools_removed.push_back(p.name);
    }
  }
  return true;
}

bool Registry::grow_counters(std::string& error) {
  for (auto& w : workers_) {
    if (!w->rule_hits.grow(rules_.size() + 1) || !w->tag_hits.grow(tags_.size() + 1) ||
        !w->servers.grow(server_count_ + 1)) {
      error = "more rules, tags or servers than the runtime can hold over its lifetime";
      return false;
    }
  }
  return true;
}

std::vector<std::string> Registry::limiter_keys(const PolicyImage& image) {
  std::vector<std::string> keys;
  std::unordered_map<uint32_t, unsigned> ordinal;
  for (const LimiterSpec& l : image.limiters) {
    std::string name = l.rule < image.rules.size() ? image.rules[l.rule].name : std::string("?");
    keys.push_back(name + "#" + std::to_string(ordinal[l.rule]++));
  }
  return keys;
}

std::shared_ptr<SourceRateTable> Registry::source_table(const std::string& key, const LimiterSpec& l) {
  auto it = source_tables_.find(key);
  if (it != source_tables_.end() && same_table(it->second.spec, l)) return it->second.table;
  auto table = std::make_shared<SourceRateTable>(l.spec, l.v4_prefix, l.v6_prefix, l.table_size ? l.table_size : 65536);
  source_tables_[key] = {l, table};
  return table;
}

int Registry::find_server(const std::string& pool, const NetAddress& address) const {
  auto it = server_ids_.find(server_key(pool, address));
  return it == server_ids_.end() ? -1 : static_cast<int>(it->second);
}

int Registry::find_server(const std::string& key) const {
  auto it = server_ids_.find(key);
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
