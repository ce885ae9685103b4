// Checks that find legal policies that are almost certainly wrong: pools and
// sets nobody uses, pools without servers; and rules that can never match
// (shadowing.cc).
#include <algorithm>
#include <fmt/core.h>

#include <set>

#include "dnspc/sema/sema.h"
#include "shadowing.h"

namespace dnspc::sema {

namespace {

void mark_sets(const Cond& c, std::vector<bool>& used) {
  if (c.set >= 0) used[c.set] = true;
  for (const Cond& child : c.children) mark_sets(child, used);
}

void mark_response_sets(const ResponseCond& c, std::vector<bool>& used) {
  if (c.query) mark_sets(*c.query, used);
  for (const ResponseCond& child : c.children) mark_response_sets(child, used);
}

void check_usage(const Model& m, diag::Diagnostics& diags) {
  std::vector<bool> pool_used(m.pools.size(), false), set_used(m.sets.size(), false);
  for (const Rule& r : m.rules) {
    if (r.action.pool >= 0) pool_used[r.action.pool] = true;
    mark_sets(r.condition, set_used);
  }
  for (const ResponseRule& r : m.response_rules) mark_response_sets(r.condition, set_used);
  for (const DynBlock& b : m.dynblocks) {
    if (b.pool >= 0) pool_used[b.pool] = true;
  }
  bool lua_actions = false;
  for (const Rule& r : m.rules) lua_actions = lua_actions || r.action.terminal == Terminal::kLua;
  for (size_t i = 0; i < m.pools.size(); ++i) {
    const Pool& p = m.pools[i];
    // A Lua action may name any pool ("pool", NAME): none is unused then.
    if (!pool_used[i] && !lua_actions) {
      diags.warning("unused-pool", p.range,
                    fmt::format("pool '{}' is never used: no rule or dynamic block sends queries to it",
                                p.name));
    }
    if (p.servers.empty()) {
      diags.warning("empty-pool", p.range,
                    fmt::format("pool '{}' has no servers; queries sent to it are {}", p.name,
                                p.no_server == FailureAnswer::kDrop ? "dropped" : "answered SERVFAIL"));
    }
  }
  for (size_t i = 0; i < m.sets.size(); ++i) {
    if (!set_used[i]) {
      diags.warning("unused-set", m.sets[i].range,
                    fmt::format("set '{}' is never used", m.sets[i].name));
    }
  }
}

}  // namespace

void run_static_checks(const Model& model, diag::Diagnostics& diags) {
  check_shadowed_rules(model, diags);
  check_usage(model, diags);
}

}  // namespace dnspc::sema
