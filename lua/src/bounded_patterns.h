// The sandbox's own string.find, string.match, string.gmatch and
// string.gsub: stock Lua 5.4's semantics, but their matching work is charged
// to the instruction budget (see bounded_patterns.cc for why). Private to lua/.
#pragma once

#include <lua.hpp>

namespace dnspc::lua {

// Replaces the four pattern functions in the string library's table, which
// strings' metatable indexes too, so `s:find(...)` is covered. Needs the
// string library open and the state's allocator userdata to be a
// SandboxBudget; may raise a memory error, so call it under lua_pcall.
void install_bounded_patterns(lua_State* L);

}  // namespace dnspc::lua
