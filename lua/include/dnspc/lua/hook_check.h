// Checking the Lua hooks a policy names (`lua "hooks.lua";`, then `lua is_bad`,
// `=> lua silence`, `policy lua pick`) without running them for real: the
// file's top-level code runs once in a sandbox and the global functions it
// leaves behind are reported. `dnspc check` turns the result into its own
// diagnostics; no Lua type crosses this header.
//
// The sandbox: a fresh Lua state per check, a memory cap enforced by the
// allocator, a bound on VM instructions, and only the libraries harmless code
// needs (base, string, table, math, utf8, coroutine). Gone: io, os, package,
// debug, require, dofile, loadfile, load (nothing outside the file can be read
// or run). `print` is a no-op, so that a file printing a banner still checks
// and nothing lands in `dnspc check`'s output (JSON included).
// `setmetatable` refuses metatables with `__gc`: Lua runs finalizers with
// debug hooks off, so a finalizer could loop outside the instruction bound
// (and would even run inside lua_close). `collectgarbage` stays: without
// finalizers it can only spend memory and time the limits already bound.
// string.find, match, gmatch and gsub are the sandbox's own, with stock Lua
// 5.4's semantics: a call into C counts as one instruction, and a
// backtracking pattern (".-.-.-.-b") can take seconds inside one call, so
// ours charge each matching step to the instruction bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dnspc::lua {

struct SandboxLimits {
  // Everything the Lua state allocates, its libraries included (about 25 KiB).
  std::size_t memory_bytes = std::size_t{64} << 20;
  // Lua VM instructions the top-level code may run. A call into the C library
  // (string.rep, table.concat) is one instruction however long it takes; the
  // memory cap bounds what those calls can build. The pattern functions
  // (string.find, match, gmatch, gsub) are the exception: they charge their
  // work here, 2 matching steps an instruction.
  std::uint64_t instructions = 10'000'000;
};

struct LuaFunctionInfo {
  int line = 0;  // where `function name(...)` starts; 0 when not written in Lua (`f = string.len`)
  int param_count = 0;     // named parameters
  bool is_vararg = false;  // ends in `...`
};

// What the chunk left in the global table.
struct LuaHooks {
  // Global functions the chunk defined or replaced, by name. Builtins it left
  // alone (print, pairs, ...) are not hooks of this file.
  std::map<std::string, LuaFunctionInfo, std::less<>> functions;
  // The chunk's other globals, name -> Lua type name ("table", "number"), so
  // that `lua limits` can be told "is a table, not a function".
  std::map<std::string, std::string, std::less<>> other_globals;

  const LuaFunctionInfo* find(std::string_view name) const;
  // The candidates for "did you mean" (diag::closest_match does the
  // matching, one way for every name in the language), in name order.
  std::vector<std::string> function_names() const;
};

enum class LuaLoadErrorKind {
  kSyntax,            // the file does not parse (or is precompiled bytecode)
  kRuntime,           // its top-level code raised an error
  kMemoryLimit,       // it needed more than SandboxLimits::memory_bytes
  kInstructionLimit,  // it ran more than SandboxLimits::instructions
};

struct LuaLoadError {
  LuaLoadErrorKind kind = LuaLoadErrorKind::kRuntime;
  int line = 0;         // 1-based line in the file; 0 when unknown (memory errors)
  std::string message;  // without Lua's "hooks.lua:12: " prefix
};

// "hooks.lua:12: message", or "hooks.lua: message" without a line.
std::string to_string(std::string_view chunk_name, const LuaLoadError& error);

using LuaHookCheck = std::variant<LuaHooks, LuaLoadError>;

// Runs `source`'s top-level code in a fresh sandbox and lists its global
// functions. `chunk_name` is the file name as the policy wrote it; Lua's
// messages name it (Lua shortens names past 59 bytes in its own messages,
// which this strips; LuaLoadError::message never holds the name).
LuaHookCheck check_lua_hooks(std::string_view chunk_name, std::string_view source,
                             const SandboxLimits& limits = {});

}  // namespace dnspc::lua
