// The Lua states of a policy: one per worker (a Lua state is not shared
// between threads, so no global Lua lock), built off the packet path (at
// start, and on the reload thread for a reload), swapped in with the policy
// they belong to and closed with it once no worker runs it (docs/lua.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnspc/lua/hook_runtime.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::runtime {

class Registry;

using LuaStates = std::vector<std::unique_ptr<lua::HookRuntime>>;

// One state per worker from image.lua (none when the policy has no hook).
// False and `error` ("hooks.lua:3: ...") when a file does not load or a
// function is missing; nothing is kept then.
bool build_lua_states(const PolicyImage& image, unsigned workers, LuaStates& out, std::string& error);

// Points each worker's state at that worker's counters in the registry (by
// hook name), after Registry::update() has seen the image.
void bind_lua_stats(LuaStates& states, const PolicyImage& image, Registry& registry);

}  // namespace dnspc::runtime
