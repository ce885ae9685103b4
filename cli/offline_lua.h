// The policy's Lua hooks for `dnspc test` and `dnspc explain`: one sandboxed
// hook runtime for the whole command, loaded and called exactly as a worker
// of `dnspc run` loads and calls its own (lua::decided_verdict is shared),
// so the three agree on what a hook decides.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "dnspc/cases/runner.h"
#include "dnspc/lua/hook_runtime.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::cli {

struct OfflineLua {
  runtime::LuaSpec spec;
  std::unique_ptr<lua::HookRuntime> hooks;  // null: the policy has no hook
  lua::PredicateBinding binding;
};

// False and `error` when a file cannot be read or loaded. A failing hook
// logs to stderr as "COMMAND: lua hook '...' failed: ...".
bool load_lua(const pipeline::CompiledPolicy& policy, const char* command, OfflineLua& out, std::string& error);

// Lua predicates of `state`'s decisions call the hooks.
void bind_predicates(OfflineLua& lua, DecisionState& state);

// What the Lua action of verdict `v` (action kLua) decides for `view`, as
// the runtime applies it; nullopt: no verdict, the next rules decide.
std::optional<Verdict> run_lua_action(OfflineLua& lua, const ir::Program& program, const Verdict& v,
                                      const QueryView& view, DecisionState& state);

// Both, for the case runner.
void bind_lua(OfflineLua& lua, cases::Decider& decider);

}  // namespace dnspc::cli
