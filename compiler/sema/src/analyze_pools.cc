// Pools: their load-balancing policy, settings and servers.
#include <algorithm>
#include <fmt/core.h>

#include <optional>
#include <set>

#include "analyzer.h"

namespace dnspc::sema {

namespace {

const std::vector<std::pair<std::string, LbPolicy>> kPolicies = {
    {"round_robin", LbPolicy::kRoundRobin},       {"least_outstanding", LbPolicy::kLeastOutstanding},
    {"first_available", LbPolicy::kFirstAvailable}, {"weighted_random", LbPolicy::kWeightedRandom},
    {"hashed", LbPolicy::kHashed},                 {"consistent_hash", LbPolicy::kConsistentHash},
};

const std::vector<std::string> kServerAttrs = {"weight",     "qps",     "order",      "check",
                                               "check_type", "every",   "timeout",    "down_after",
                                               "up_after",   "healthy", "state"};

}  // namespace

void Analyzer::analyze_pools() {
  for (const ast::PoolDecl& decl : ast_.pools) {
    if (int existing = model_.find_pool(decl.name.text); existing >= 0) {
      auto& d = diags_.error("duplicate-pool", decl.name.range,
                             fmt::format("pool '{}' is defined twice", decl.name.text));
      d.notes.push_back({model_.pools[existing].range, "first defined here"});
      continue;
    }
    Pool pool;
    pool.name = decl.name.text;
    pool.range = decl.name.range;
    if (decl.policy) {
      if (decl.policy_is_lua) {
        pool.policy = LbPolicy::kLua;
        pool.lua_policy = decl.policy->text;
        lua_uses_.push_back({decl.policy->text, "load-balancing policy", decl.policy->range});
      } else {
        auto it = std::find_if(kPolicies.begin(), kPolicies.end(),
                               [&](auto& p) { return p.first == decl.policy->text; });
        if (it == kPolicies.end()) {
          std::vector<std::string> names;
          for (auto& p : kPolicies) names.push_back(p.first);
          unknown("unknown-policy", "load-balancing policy", *decl.policy, names);
        } else {
          pool.policy = it->second;
        }
      }
    }
    std::optional<diag::SourceRange> no_server_seen;
    for (const ast::PoolSetting& s : decl.settings) {
      if (s.name.text == "on_no_server" && no_server_seen) {
        auto& d = diags_.error("duplicate-pool-setting", s.range,
                               fmt::format("pool '{}' sets on_no_server twice", pool.name));
        d.notes.push_back({*no_server_seen, "first set here"});
        continue;
      }
      if (s.name.text == "cache") {
        if (pool.cache) {
          auto& d = diags_.error("duplicate-pool-setting", s.range,
                                 fmt::format("pool '{}' sets cache twice", pool.name));
          d.notes.push_back({pool.cache->range, "first set here"});
        } else {
          pool.cache = analyze_cache(s);
        }
        continue;
      }
      if (!s.attrs.empty()) {
        diags_.error("bad-value", s.attrs.front().range,
                     fmt::format("'{}' takes one value", s.name.text));
        continue;
      }
      if (s.name.text == "on_no_server") {
        no_server_seen = s.range;
        if (s.value && s.value->kind == ast::Value::Kind::kIdent &&
            (s.value->text == "drop" || s.value->text == "servfail")) {
          pool.no_server = s.value->text == "drop" ? FailureAnswer::kDrop : FailureAnswer::kServfail;
        } else {
          diags_.error("bad-value", s.value ? s.value->range : s.range,
                       "on_no_server takes drop or servfail");
        }
      } else {
        unknown("unknown-pool-setting", "pool setting", s.name, {"cache", "on_no_server", "policy", "server"});
      }
    }
    std::map<std::string, diag::SourceRange> seen;
    for (const ast::ServerDecl& sd : decl.servers) {
      Server server = analyze_server(sd);
      std::string key = server.address.to_string();
      if (auto [it, fresh] = seen.emplace(key, sd.range); !fresh) {
        auto& d = diags_.error("duplicate-server", sd.endpoint.range,
                               fmt::format("server {} is listed twice in pool '{}'", key, pool.name));
        d.notes.push_back({it->second, "first listed here"});
        continue;
      }
      pool.servers.push_back(std::move(server));
    }
    model_.pools.push_back(std::move(pool));
  }
}

// `cache ENTRIES [NAME VALUE]...`: each value checked where it is written.
PoolCache Analyzer::analyze_cache(const ast::PoolSetting& s) {
  PoolCache c;
  c.range = s.range;
  if (!s.value) {
    diags_.error("bad-value", s.range, "'cache' takes the number of entries, like cache 100000;");
  } else if (in_range(*s.value, 1, 64'000'000, "cache entries")) {
    c.entries = static_cast<uint32_t>(s.value->integer);
  }
  const std::vector<std::string> names = {"entry_size",       "min_ttl",      "max_ttl",
                                          "max_negative_ttl", "servfail_ttl", "stale",
                                          "stale_on_timeout"};
  std::map<std::string, diag::SourceRange> seen;
  std::optional<diag::SourceRange> on_timeout_range;  // where `stale_on_timeout on` is written
  for (const ast::ServerAttr& attr : s.attrs) {
    const std::string& n = attr.name.text;
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      unknown("unknown-cache-setting", "cache setting", attr.name, names);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(n, attr.name.range); !fresh) {
      auto& d = diags_.error("duplicate-attribute", attr.name.range,
                             fmt::format("'{}' is given twice for this cache", n));
      d.notes.push_back({it->second, "first given here"});
      continue;
    }
    if (attr.values.size() > 1) {
      diags_.error("bad-value", attr.values[1].range, fmt::format("'{}' takes one value", n));
      continue;
    }
    const ast::Value& v = attr.values.front();
    if (n == "entry_size") {
      if (in_range(v, 512, 4088, "entry_size")) c.entry_size = static_cast<uint32_t>(v.integer);
      continue;
    }
    if (n == "stale_on_timeout") {
      if (v.invalid) continue;
      if (v.kind == ast::Value::Kind::kIdent && (v.text == "on" || v.text == "off")) {
        c.stale_on_timeout = v.text == "on";
        if (c.stale_on_timeout) on_timeout_range = attr.name.range;
      } else {
        diags_.error("bad-value", v.range, "'stale_on_timeout' takes on or off");
      }
      continue;
    }
    // TTL bounds: whole seconds, as TTLs are.
    const uint64_t lo = n == "min_ttl" || n == "max_negative_ttl" ? 0 : 1;
    const uint64_t hi = n == "servfail_ttl" ? 3600 : 7 * 86400;
    if (v.invalid) continue;
    if (v.kind != ast::Value::Kind::kDuration) {
      diags_.error("bad-value", v.range, fmt::format("'{}' takes a duration in seconds, like 30s or 1h", n));
      continue;
    }
    if (v.duration_ms % 1000) {
      diags_.error("bad-value", v.range, fmt::format("'{}' is a TTL: whole seconds, like 1s", n));
      continue;
    }
    const uint64_t sec = v.duration_ms / 1000;
    if (sec < lo || sec > hi) {
      diags_.error("out-of-range", v.range, fmt::format("'{}' is out of range; use {}s to {}s", n, lo, hi));
      continue;
    }
    const auto value = static_cast<uint32_t>(sec);
    if (n == "min_ttl") c.min_ttl_s = value;
    if (n == "max_ttl") c.max_ttl_s = value;
    if (n == "max_negative_ttl") c.max_negative_ttl_s = value;
    if (n == "servfail_ttl") c.servfail_ttl_s = value;
    if (n == "stale") c.stale_s = value;
  }
  if (on_timeout_range && c.stale_s == 0) {
    // A timed-out query's answer comes from the stale window: without one there is nothing to
    // serve.
    diags_.error(
        "bad-value", *on_timeout_range,
        "'stale_on_timeout' serves answers from the stale window, and this cache has none; "
        "give it one, like stale 1h");
  }
  if (c.min_ttl_s > c.max_ttl_s) {
    diags_.error("out-of-range", s.range,
                 fmt::format("cache min_ttl ({}s) is above its max_ttl ({}s)", c.min_ttl_s, c.max_ttl_s));
  }
  return c;
}

Server Analyzer::analyze_server(const ast::ServerDecl& decl) {
  Server s;
  s.address = decl.endpoint.address;
  if (!decl.endpoint.has_port) s.address.port = 53;
  s.range = decl.endpoint.range;
  std::map<std::string, diag::SourceRange> seen;
  for (const ast::ServerAttr& attr : decl.attrs) {
    const std::string& n = attr.name.text;
    if (std::find(kServerAttrs.begin(), kServerAttrs.end(), n) == kServerAttrs.end()) {
      unknown("unknown-server-attribute", "server attribute", attr.name, kServerAttrs);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(n, attr.name.range); !fresh) {
      auto& d = diags_.error("duplicate-attribute", attr.name.range,
                             fmt::format("'{}' is given twice for this server", n));
      d.notes.push_back({it->second, "first given here"});
      continue;
    }
    if (n != "healthy" && attr.values.size() > 1) {
      diags_.error("bad-value", attr.values[1].range, fmt::format("'{}' takes one value", n));
      continue;
    }
    const ast::Value& v = attr.values.front();
    auto duration = [&](uint64_t& out, uint64_t lo, uint64_t hi) {
      if (v.invalid) return;
      if (v.kind != ast::Value::Kind::kDuration) {
        diags_.error("bad-value", v.range, fmt::format("'{}' takes a duration like 1s or 500ms", n));
      } else if (v.duration_ms < lo || v.duration_ms > hi) {
        diags_.error("out-of-range", v.range,
                     fmt::format("'{}' is out of range; use {}ms to {}ms", n, lo, hi));
      } else {
        out = v.duration_ms;
      }
    };
    if (n == "weight") {
      if (in_range(v, 1, 1000, "weight")) s.weight = static_cast<unsigned>(v.integer);
    } else if (n == "qps") {
      if (in_range(v, 1, 10'000'000, "qps")) s.qps = static_cast<unsigned>(v.integer);
    } else if (n == "order") {
      if (in_range(v, 1, 1000, "order")) s.order = static_cast<unsigned>(v.integer);
    } else if (n == "check") {
      if (v.kind != ast::Value::Kind::kString) {
        diags_.error("bad-value", v.range, "'check' takes a name in quotes, inside the backend's zone");
      } else if (auto name = dns_name(v.text, v.range)) {
        s.check.qname = *name;
      }
    } else if (n == "check_type") {
      if (v.kind != ast::Value::Kind::kIdent) {
        diags_.error("bad-value", v.range, "'check_type' takes a query type, like A or SOA");
      } else if (auto t = qtype(v.text, v.range)) {
        s.check.qtype = *t;
      }
    } else if (n == "every") {
      duration(s.check.interval_ms, 100, 3'600'000);
    } else if (n == "timeout") {
      duration(s.check.timeout_ms, 10, 60'000);
    } else if (n == "down_after") {
      if (in_range(v, 1, 100, "down_after")) s.check.down_after = static_cast<unsigned>(v.integer);
    } else if (n == "up_after") {
      if (in_range(v, 1, 100, "up_after")) s.check.up_after = static_cast<unsigned>(v.integer);
    } else if (n == "healthy") {
      uint16_t mask = 0;
      for (const ast::Value& rc : attr.values) {
        if (rc.kind != ast::Value::Kind::kIdent) {
          diags_.error("bad-value", rc.range, "'healthy' takes rcode names, like NOERROR, NXDOMAIN");
        } else if (auto code = rcode(rc.text, rc.range)) {
          mask = static_cast<uint16_t>(mask | (1u << *code));
        }
      }
      if (mask) s.check.healthy_rcodes = mask;
    } else if (n == "state") {
      if (v.kind == ast::Value::Kind::kIdent && v.text == "up") {
        s.state = ServerState::kUp;
      } else if (v.kind == ast::Value::Kind::kIdent && v.text == "down") {
        s.state = ServerState::kDown;
      } else if (v.kind == ast::Value::Kind::kIdent && v.text == "auto") {
        s.state = ServerState::kAuto;
      } else {
        diags_.error("bad-value", v.range, "'state' takes up, down or auto");
      }
    }
  }
  if (s.check.timeout_ms > s.check.interval_ms) {
    diags_.warning("check-timeout", decl.range,
                   fmt::format("health check timeout ({}ms) is longer than its interval ({}ms); "
                               "probes will overlap",
                               s.check.timeout_ms, s.check.interval_ms));
  }
  return s;
}

}  // namespace dnspc::sema
