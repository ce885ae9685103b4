// check_lua_hooks: run the file's top level in a sandbox, then read the
// global table it left behind.
#include "dnspc/lua/hook_check.h"

#include <fmt/format.h>

#include "sandbox.h"

namespace dnspc::lua {
namespace {

// Walks the globals with raw access only (lua_next, lua_rawget, lua_getinfo
// with "Su"), none of which allocates or runs Lua code, so this needs no
// lua_pcall and C++ exceptions (bad_alloc) unwind normally.
LuaHookCheck collect_globals(const Sandbox& sandbox) {
  lua_State* L = sandbox.state();
  if (lua_checkstack(L, 6) == 0) {
    return LuaLoadError{LuaLoadErrorKind::kMemoryLimit, 0, "no Lua stack left to list the globals"};
  }
  LuaHooks hooks;
  lua_pushglobaltable(L);
  int globals = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, globals) != 0) {
    int key = globals + 1;
    int value = globals + 2;
    // Only string keys are names a policy can use; lua_tolstring would
    // convert a number key in place and break lua_next.
    if (lua_type(L, key) == LUA_TSTRING && !sandbox.is_untouched_builtin(key, value)) {
      std::size_t length = 0;
      const char* data = lua_tolstring(L, key, &length);
      std::string name(data, length);
      if (lua_type(L, value) == LUA_TFUNCTION) {
        lua_Debug ar;
        lua_pushvalue(L, value);
        lua_getinfo(L, ">Su", &ar);
        LuaFunctionInfo info;
        info.line = ar.linedefined > 0 ? ar.linedefined : 0;  // -1 for C functions
        info.param_count = ar.nparams;
        info.is_vararg = ar.isvararg != 0;
        hooks.functions.emplace(std::move(name), info);
      } else {
        hooks.other_globals.emplace(std::move(name), luaL_typename(L, value));
      }
    }
    lua_pop(L, 1);  // the value; the key stays for lua_next
  }
  lua_pop(L, 1);
  return hooks;
}

}  // namespace

const LuaFunctionInfo* LuaHooks::find(std::string_view name) const {
  auto it = functions.find(name);
  return it != functions.end() ? &it->second : nullptr;
}

std::vector<std::string> LuaHooks::function_names() const {
  std::vector<std::string> names;
  names.reserve(functions.size());
  for (const auto& [name, info] : functions) names.push_back(name);
  return names;
}

std::string to_string(std::string_view chunk_name, const LuaLoadError& error) {
  if (error.line > 0) return fmt::format("{}:{}: {}", chunk_name, error.line, error.message);
  return fmt::format("{}: {}", chunk_name, error.message);
}

LuaHookCheck check_lua_hooks(std::string_view chunk_name, std::string_view source,
                             const SandboxLimits& limits) {
  Sandbox sandbox(limits);
  if (auto error = sandbox.run_chunk(chunk_name, source)) return *std::move(error);
  return collect_globals(sandbox);
}

}  // namespace dnspc::lua
