#include "dnspc/runtime/registry.h"

#include <algorithm>

#include <string_view>
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

RegistryPlan Registry::plan(const PolicyImage& next, const PolicyImage* previous) const {
  RegistryPlan plan;
  plan.image = &next;
  plan.rule_count = rules_.size();
  plan.tag_count = tags_.size();
  auto lookup = [](const std::string& name, const std::unordered_map<std::string, uint32_t>& by_name,
                   std::unordered_map<std::string_view, uint32_t>& added, std::vector<std::string>& new_names) {
    auto it = by_name.find(name);
    if (it != by_name.end()) return it->second;
    auto [at, fresh] = added.emplace(name, static_cast<uint32_t>(new_names.size()) | RegistryPlan::kNew);
    if (fresh) new_names.push_back(name);
    return at->second;
  };
  std::unordered_map<std::string_view, uint32_t> added;
  plan.rule_ids.reserve(next.rules.size() + next.response_rules.size());
  for (const RuleSpec& r : next.rules) plan.rule_ids.push_back(lookup(r.name, rule_ids_, added, plan.new_rules));
  for (const ResponseRuleSpec& r : next.response_rules) {
    plan.rule_ids.push_back(lookup(r.name, rule_ids_, added, plan.new_rules));
  }
  added.clear();
  for (const std::string& t : next.tags) plan.tag_ids.push_back(lookup(t, tag_ids_, added, plan.new_tags));

  if (previous) {
    RegistryChanges& changes = plan.changes;
    std::unordered_map<std::string_view, const RuleSpec*> before;
    before.reserve(previous->rules.size());
    for (const RuleSpec& r : previous->rules) before.emplace(r.name, &r);
    std::unordered_set<std::string_view> now;
    now.reserve(next.rules.size());
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
  return plan;
}

bool Registry::update(const PolicyImage& next, const PolicyImage* previous, RegistryChanges& changes,
                      std::string& error, RegistryPlan* plan) {
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
  RegistryPlan own;
  if (plan == nullptr || plan->resolved || plan->image != &next || plan->rule_count != rules_.size() ||
      plan->tag_count != tags_.size()) {
    own = this->plan(next, previous);
    plan = &own;
  }
  auto resolve = [](std::vector<uint32_t>& ids, std::vector<std::string>& names, std::vector<std::string>& added,
                    std::unordered_map<std::string, uint32_t>& by_name, std::vector<uint8_t>& live) {
    const uint32_t first = static_cast<uint32_t>(names.size());
    for (std::string& name : added) {
      by_name.emplace(name, static_cast<uint32_t>(names.size()));
      names.push_back(std::move(name));
    }
    added.clear();
    live.assign(names.size(), 0);
    for (uint32_t& id : ids) {
      if (id & RegistryPlan::kNew) id = first + (id & ~RegistryPlan::kNew);
      live[id] = 1;
    }
  };
  // Response rules share the rules' names (sema keeps them unique) and
  // their hit counters.
  resolve(plan->rule_ids, rules_, plan->new_rules, rule_ids_, rule_live_);
  resolve(plan->tag_ids, tags_, plan->new_tags, tag_ids_, tag_live_);
  plan->resolved = true;
  lua_hook_live_.assign(lua_hooks_.size(), 0);
  for (const std::string& name : next.lua.hooks) {
    int id = find_lua_hook(name);
    if (id < 0) {
      id = static_cast<int>(lua_hooks_.size());
      lua_hooks_.push_back(name);
      lua_hook_live_.push_back(0);
    }
    lua_hook_live_[static_cast<size_t>(id)] = 1;
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

  changes.rules_added += plan->changes.rules_added;
  changes.rules_removed += plan->changes.rules_removed;
  changes.rules_changed += plan->changes.rules_changed;
  changes.pools_added.insert(changes.pools_added.end(), plan->changes.pools_added.begin(),
                             plan->changes.pools_added.end());
  changes.pools_removed.insert(changes.pools_removed.end(), plan->changes.pools_removed.begin(),
                               plan->changes.pools_removed.end());
  return true;
}

bool Registry::grow_counters(std::string& error) {
  for (auto& w : workers_) {
    if (!w->rule_hits.grow(rules_.size() + 1) || !w->tag_hits.grow(tags_.size() + 1) ||
        !w->servers.grow(server_count_ + 1) || !w->lua_hooks.grow(lua_hooks_.size() + 1)) {
      error = "more rules, tags, servers or Lua hooks than the runtime can hold over its lifetime";
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

int Registry::find_lua_hook(const std::string& name) const {
  auto it = std::find(lua_hooks_.begin(), lua_hooks_.end(), name);
  return it == lua_hooks_.end() ? -1 : static_cast<int>(it - lua_hooks_.begin());
}

int Registry::find_tag(const std::string& name) const {
  auto it = tag_ids_.find(name);
  return it == tag_ids_.end() ? -1 : static_cast<int>(it->second);
}

}  // namespace dnspc::runtime
