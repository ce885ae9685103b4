// The sandboxed Lua state behind every Lua check (and, later, every worker's
// hooks): a custom allocator with a cap, a count hook with an instruction
// budget, a reduced library set. string.find, match, gmatch and gsub are our
// own (bounded_patterns.h): stock Lua runs a C function as one instruction,
// and a backtracking pattern can run for seconds inside one; ours charge
// their matching steps to the same budget. Private to lua/.
//
// Debian's liblua5.4 is C, so Lua errors are longjmps: the C functions Lua
// calls back (allocator, hook, message handler, setmetatable, the pattern
// functions) keep no C++ object with a destructor alive, and everything that
// can raise an error outside those runs under lua_pcall.
#pragma once

#include <lua.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "dnspc/lua/hook_check.h"

namespace dnspc::lua {

// What the allocator, the count hook and the message handler record. They
// reach it through the allocator's userdata pointer (lua_getallocf), which
// every thread of the state shares, coroutines included.
struct SandboxBudget {
  std::size_t memory_limit = 0;
  std::size_t memory_used = 0;  // as Lua sees its blocks
  std::uint64_t instruction_limit = 0;
  std::uint64_t instructions_run = 0;  // counted in steps of hook_interval
  int hook_interval = 1;
  bool instructions_exhausted = false;
  int stopped_line = 0;  // the line running when the instruction budget ran out
  int error_line = 0;    // innermost Lua line of the error that ended the run
};

// Charges work a C function did for the running code (the pattern
// matcher's steps, which the count hook cannot see) to the instruction
// budget. When that spends it, raises "instruction limit reached" as the count
// hook does: a Lua error, so the caller must be a C function Lua called and
// keep no C++ object with a destructor alive.
void charge_instructions(lua_State* L, std::uint64_t instructions);

class Sandbox {
 public:
  explicit Sandbox(const SandboxLimits& limits);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;  // the state points at budget_
  Sandbox& operator=(const Sandbox&) = delete;

  // Loads `source` as a text chunk named "=<chunk_name>" (so messages read
  // "hooks.lua:3: ...") and runs its top-level code. Precompiled bytecode is
  // refused: malformed bytecode can crash the VM. nullopt on success.
  std::optional<LuaLoadError> run_chunk(std::string_view chunk_name, std::string_view source);

  // nullptr when even the bare state did not fit in the memory limit.
  lua_State* state() const { return state_; }

  // A fresh instruction budget, for each call of a hook after loading.
  void reset_instruction_budget();
  // The budget every later reset gives (a hook call's, once the files ran).
  void set_instruction_limit(std::uint64_t limit) { budget_.instruction_limit = limit; }
  bool instructions_exhausted() const { return budget_.instructions_exhausted; }
  int stopped_line() const { return budget_.stopped_line; }
  std::size_t memory_used() const { return budget_.memory_used; }

  // Whether the global `value` at `key` (absolute stack indexes) is one the
  // sandbox installed and the chunk left alone. Needs 2 free stack slots;
  // allocates nothing, so it may run outside lua_pcall.
  bool is_untouched_builtin(int key, int value) const;

 private:
  LuaLoadError memory_error() const;

  SandboxLimits limits_;
  SandboxBudget budget_;
  lua_State* state_ = nullptr;
  bool ready_ = false;  // libraries opened
};

}  // namespace dnspc::lua
