// The table's entries for Lua hooks: per hook (by function name, as the
// registry keeps them across reloads) calls, failures, budget stops, time
// and state rebuilds, summed over the workers' own states (docs/lua.md).
#include "metric_defs.h"

namespace dnspc::runtime {
namespace {

using HookField = std::atomic<uint64_t> HookStats::*;

uint64_t sum_hook(const Registry& r, uint32_t id, HookField f) {
  uint64_t total = 0;
  for (unsigned w = 0; w < r.worker_count(); ++w) total += HookStats::get(r.worker(w).lua_hooks[id].*f);
  return total;
}

// One sample per hook of the running policy.
MetricReader per_hook(HookField f) {
  return [f](const MetricsContext& c, MetricSink& out) {
    const Registry& r = *c.registry;
    for (uint32_t id = 0; id < r.lua_hook_count(); ++id) {
      if (r.lua_hook_live(id)) out.integer({{"hook", r.lua_hook_name(id)}}, sum_hook(r, id, f));
    }
  };
}

}  // namespace

void add_lua_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "lua_hook_calls_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Calls of each Lua hook of the running policy.",
               .labels = {"hook"},
               .json = "lua.hooks.{hook}.calls",
               .read = per_hook(&HookStats::calls)});
  t.push_back({.name = "lua_hook_errors_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Lua hook calls that failed (an error, an unusable result or a budget stop) and took the "
                       "hook's fallback.",
               .labels = {"hook"},
               .json = "lua.hooks.{hook}.errors",
               .read = per_hook(&HookStats::errors)});
  t.push_back({.name = "lua_hook_budget_stops_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Lua hook calls stopped by a budget: the per-call instruction budget or the state's memory "
                       "cap.",
               .labels = {"hook", "budget"},
               .json = "lua.hooks.{hook}.stops.{budget}",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.lua_hook_count(); ++id) {
                   if (!r.lua_hook_live(id)) continue;
                   out.integer({{"hook", r.lua_hook_name(id)}, {"budget", "instructions"}},
                               sum_hook(r, id, &HookStats::instruction_stops));
                   out.integer({{"hook", r.lua_hook_name(id)}, {"budget", "memory"}},
                               sum_hook(r, id, &HookStats::memory_stops));
                 }
               }});
  t.push_back({.name = "lua_hook_seconds_total",
               .type = MetricType::kCounter,
               .unit = "seconds",
               .help = "Time spent in each Lua hook's calls.",
               .labels = {"hook"},
               .json = "lua.hooks.{hook}.seconds",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.lua_hook_count(); ++id) {
                   if (!r.lua_hook_live(id)) continue;
                   out.real({{"hook", r.lua_hook_name(id)}},
                            static_cast<double>(sum_hook(r, id, &HookStats::nanoseconds)) / 1e9);
                 }
               }});
  t.push_back({.name = "lua_state_rebuilds_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Lua states rebuilt after a hook ran out of memory and the state stayed full, by that hook.",
               .labels = {"hook"},
               .json = "lua.hooks.{hook}.rebuilds",
               .read = per_hook(&HookStats::rebuilds)});
  t.push_back({.name = "lua_actions_without_verdict_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Lua actions that gave no verdict or failed: their rule counted as not matched and the "
                       "following rules decided.",
               .json = "lua.actions_without_verdict",
               .read = sum_of(&WorkerCounters::lua_no_verdict)});
}

}  // namespace dnspc::runtime
