#include "offline_lua.h"

#include <fmt/core.h>

#include "dnspc/runtime/bridge.h"

namespace dnspc::cli {

bool load_lua(const pipeline::CompiledPolicy& policy, const char* command, OfflineLua& out, std::string& error) {
  if (!runtime_bridge::lua_spec(policy, out.spec, error)) return false;
  if (out.spec.empty()) return true;
  lua::HookSetup setup;
  setup.files = out.spec.files;
  setup.functions = out.spec.hooks;
  setup.pools = policy.reference.pools;
  setup.tags = policy.reference.tags;
  setup.limits.call_instructions = out.spec.call_instructions;
  setup.limits.load.memory_bytes = out.spec.memory_bytes;
  // A failing hook shows in the verdict it leads to; its message says why.
  setup.log = [](void* context, std::string_view line) {
    fmt::print(stderr, "{}: {}\n", static_cast<const char*>(context), line);
  };
  setup.log_context = const_cast<char*>(command);
  out.hooks = lua::HookRuntime::load(std::move(setup), error);
  return out.hooks != nullptr;
}

void bind_predicates(OfflineLua& lua, DecisionState& state) {
  if (!lua.hooks) return;
  lua.binding = {lua.hooks.get(), lua.spec.query_uses.data(), static_cast<uint32_t>(lua.spec.query_uses.size()),
                 &state.tags};
  state.lua_predicate = lua::PredicateBinding::call;
  state.lua_context = &lua.binding;
}

std::optional<Verdict> run_lua_action(OfflineLua& lua, const ir::Program& program, const Verdict& v,
                                      const QueryView& view, DecisionState& state) {
  if (!lua.hooks || v.rule >= program.rules.size() || v.argument >= lua.spec.query_uses.size()) return std::nullopt;
  lua::HookQuery query;
  query.view = &view;
  query.rule = program.rules[v.rule].name;
  query.tags = state.tags;
  const lua::ActionVerdict decided = lua.hooks->action(lua.spec.query_uses[v.argument], query);
  std::optional<Verdict> out = lua::decided_verdict(v, decided, view.transport, lua.spec.default_pool);
  if (out) state.tags = query.tags;
  return out;
}

void bind_lua(OfflineLua& lua, cases::Decider& decider) {
  if (!lua.hooks) return;
  decider.prepare = [&lua](DecisionState& st) { bind_predicates(lua, st); };
  decider.lua_action = [&lua, program = decider.program](const Verdict& v, const QueryView& view,
                                                         DecisionState& st) {
    return run_lua_action(lua, *program, v, view, st);
  };
}

}  // namespace dnspc::cli
