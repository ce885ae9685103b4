// Building the sandboxed state: allocator, instruction budget, libraries.
#include "sandbox.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "bounded_patterns.h"

namespace dnspc::lua {
namespace {

// The registry key of the table that snapshots the globals the sandbox
// installed, so that the chunk's own globals can be told from builtins.
const char kBuiltinsKey = 0;

SandboxBudget& budget_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<SandboxBudget*>(ud);
}

// Refusing a block makes Lua collect garbage and retry once, then raise a
// memory error (LUA_ERRMEM), which unwinds cleanly: a memory bomb ends the
// run, never the process.
void* allocate(void* ud, void* block, std::size_t old_size, std::size_t new_size) {
  auto& budget = *static_cast<SandboxBudget*>(ud);
  // Without a block, old_size tells the object's type, not a size.
  std::size_t old_bytes = block != nullptr ? old_size : 0;
  if (new_size == 0) {
    std::free(block);
    budget.memory_used -= old_bytes;
    return nullptr;
  }
  if (new_size > old_bytes && new_size - old_bytes > budget.memory_limit - budget.memory_used) {
    return nullptr;
  }
  void* moved = std::realloc(block, new_size);
  if (moved == nullptr) {
    // Lua assumes shrinking never fails; the old block is big enough.
    if (new_size > old_bytes) return nullptr;
    moved = block;
  }
  budget.memory_used = budget.memory_used - old_bytes + new_size;
  return moved;
}

void count_instructions(lua_State* L, lua_Debug* ar);

// The end of a run whose instruction budget is spent; longjmps.
void stop_at_instruction_limit(lua_State* L) {
  // From now on stop before every instruction of this thread, so that code
  // catching the error with pcall gets no further than its next instruction.
  lua_sethook(L, count_instructions, LUA_MASKCOUNT, 1);
  lua_pushliteral(L, "instruction limit reached");
  lua_error(L);
}

void count_instructions(lua_State* L, lua_Debug* ar) {
  SandboxBudget& budget = budget_of(L);
  if (!budget.instructions_exhausted) {
    budget.instructions_run += static_cast<std::uint64_t>(budget.hook_interval);
    if (budget.instructions_run < budget.instruction_limit) return;
    budget.instructions_exhausted = true;
    if (lua_getinfo(L, "l", ar) != 0 && ar->currentline > 0) budget.stopped_line = ar->currentline;
  }
  stop_at_instruction_limit(L);
}

int ignore_print(lua_State*) {
  return 0;
}

// lbaselib's setmetatable plus one check. Only setmetatable can mark a table
// for finalization, and only when its metatable has __gc at that moment
// (adding __gc later does not), so this check keeps finalizers out entirely.
int setmetatable_without_gc(lua_State* L) {
  int type = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
  if (type == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) {
      return luaL_error(L,
                        "__gc metamethods are not allowed in Lua hooks (finalizers run outside the "
                        "sandbox's instruction limit)");
    }
    lua_pop(L, 1);
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
    return luaL_error(L, "cannot change a protected metatable");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// Runs under lua_pcall: every call here may raise a memory error.
int open_sandbox(lua_State* L) {
  static const luaL_Reg kLibraries[] = {
      {LUA_GNAME, luaopen_base},       {LUA_COLIBNAME, luaopen_coroutine},
      {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
      {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
  };
  for (const luaL_Reg& library : kLibraries) {
    luaL_requiref(L, library.name, library.func, 1);
    lua_pop(L, 1);
  }
  // Stock Lua's pattern functions run unbounded inside one instruction.
  install_bounded_patterns(L);
  // These read or run code from outside the file (load could also run
  // bytecode, which can crash the VM).
  for (const char* name : {"dofile", "loadfile", "load"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_pushcfunction(L, ignore_print);
  lua_setglobal(L, "print");
  lua_pushcfunction(L, setmetatable_without_gc);
  lua_setglobal(L, "setmetatable");

  lua_newtable(L);  // the snapshot of the builtins
  lua_pushglobaltable(L);
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {  // snapshot, globals, key, value
    lua_pushvalue(L, -2);
    lua_insert(L, -2);  // snapshot, globals, key, key, value
    lua_rawset(L, -5);
  }
  lua_pop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kBuiltinsKey);
  return 0;
}

// Only reached if a Lua error escapes lua_pcall, which would be a bug here;
// Lua aborts when this returns. Say what happened first.
int report_panic(lua_State* L) {
  const char* message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a string)";
  std::fprintf(stderr, "dnspc: Lua error outside the sandbox's protection: %s\n", message);
  return 0;
}

}  // namespace

void charge_instructions(lua_State* L, std::uint64_t instructions) {
  SandboxBudget& budget = budget_of(L);
  if (!budget.instructions_exhausted) {
    budget.instructions_run += instructions;
    if (budget.instructions_run < budget.instruction_limit) return;
    budget.instructions_exhausted = true;
    // Level 0 is the C function charging; the line is its innermost Lua caller's.
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar) != 0; ++level) {
      if (lua_getinfo(L, "l", &ar) != 0 && ar.currentline > 0) {
        budget.stopped_line = ar.currentline;
        break;
      }
    }
  }
  stop_at_instruction_limit(L);
}

Sandbox::Sandbox(const SandboxLimits& limits) : limits_(limits) {
  budget_.memory_limit = limits.memory_bytes;
  budget_.instruction_limit = limits.instructions;
  // Each thread counts down to its own hook, so a coroutine that ends before
  // its count runs out goes uncounted: counting in steps of 10 keeps such
  // short coroutines from stretching the bound much (a few times at worst),
  // and costs little (measured: no visible slowdown of a bare loop).
  budget_.hook_interval = static_cast<int>(std::clamp<std::uint64_t>(limits.instructions, 1, 10));
  state_ = lua_newstate(allocate, &budget_);
  if (state_ == nullptr) return;
  lua_atpanic(state_, report_panic);
  lua_pushcfunction(state_, open_sandbox);
  ready_ = lua_pcall(state_, 0, 0, 0) == LUA_OK;
  lua_settop(state_, 0);
  // Set last: opening the libraries is not the chunk's budget.
  lua_sethook(state_, count_instructions, LUA_MASKCOUNT, budget_.hook_interval);
}

Sandbox::~Sandbox() {
  if (state_ != nullptr) lua_close(state_);
}

bool Sandbox::is_untouched_builtin(int key, int value) const {
  lua_rawgetp(state_, LUA_REGISTRYINDEX, &kBuiltinsKey);
  lua_pushvalue(state_, key);
  lua_rawget(state_, -2);
  bool untouched = lua_rawequal(state_, -1, value) != 0;
  lua_pop(state_, 2);
  return untouched;
}

LuaLoadError Sandbox::memory_error() const {
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  std::string limit = limits_.memory_bytes % kMiB == 0
                          ? fmt::format("{} MiB", limits_.memory_bytes / kMiB)
                          : fmt::format("{} bytes", limits_.memory_bytes);
  if (!ready_) {
    return {LuaLoadErrorKind::kMemoryLimit, 0,
            fmt::format("the Lua sandbox itself does not fit in its memory limit of {}", limit)};
  }
  return {LuaLoadErrorKind::kMemoryLimit, 0,
          fmt::format("top-level code needed more than {} of memory; a hooks file should only "
                      "define functions when loaded",
                      limit)};
}

void Sandbox::reset_instruction_budget() {
  budget_.instructions_run = 0;
  budget_.instructions_exhausted = false;
  budget_.stopped_line = 0;
  if (state_) lua_sethook(state_, count_instructions, LUA_MASKCOUNT, budget_.hook_interval);
}

}  // namespace dnspc::lua
