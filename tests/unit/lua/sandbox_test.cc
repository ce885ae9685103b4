// The sandbox the hooks file runs in: which libraries it has, and how the
// memory cap and the instruction bound stop hostile or broken top-level code
// without hurting the process.
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/lua/hook_check.h"

using dnspc::lua::check_lua_hooks;
using dnspc::lua::LuaHooks;
using dnspc::lua::LuaLoadError;
using dnspc::lua::LuaLoadErrorKind;
using dnspc::lua::SandboxLimits;

namespace {

LuaLoadError error_of(std::string_view source, const SandboxLimits& limits = {}) {
  auto result = check_lua_hooks("hooks.lua", source, limits);
  REQUIRE(std::holds_alternative<LuaLoadError>(result));
  return std::get<LuaLoadError>(std::move(result));
}

bool loads(std::string_view source, const SandboxLimits& limits = {}) {
  auto result = check_lua_hooks("hooks.lua", source, limits);
  if (const auto* error = std::get_if<LuaLoadError>(&result)) {
    UNSCOPED_INFO("load error: " << to_string("hooks.lua", *error));
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("libraries that reach outside the file are absent", "[lua][sandbox]") {
  CHECK(
      loads("assert(io == nil and os == nil and package == nil and debug == nil)\n"
            "assert(require == nil and dofile == nil and loadfile == nil and load == nil)\n"));
}

TEST_CASE("using an absent library fails at load time with its line", "[lua][sandbox]") {
  LuaLoadError io = error_of("\nlocal f = io.open('/etc/passwd')\n");
  CHECK(io.kind == LuaLoadErrorKind::kRuntime);
  CHECK(io.line == 2);
  CHECK(io.message == "attempt to index a nil value (global 'io')");

  CHECK(error_of("os.execute('true')\n").message == "attempt to index a nil value (global 'os')");
  CHECK(error_of("local json = require('json')\n").message ==
        "attempt to call a nil value (global 'require')");
  CHECK(error_of("dofile('/etc/passwd')\n").message ==
        "attempt to call a nil value (global 'dofile')");
  CHECK(error_of("loadfile('/etc/passwd')\n").message ==
        "attempt to call a nil value (global 'loadfile')");
  CHECK(error_of("load('return 1')()\n").message == "attempt to call a nil value (global 'load')");
  CHECK(error_of("debug.sethook()\n").message == "attempt to index a nil value (global 'debug')");
}

TEST_CASE("the libraries harmless code needs are there", "[lua][sandbox]") {
  CHECK(
      loads("assert(string.format('%s.%d', 'a', 1) == 'a.1')\n"
            "assert(('ABC'):lower() == 'abc')\n"
            "assert(table.concat({'a', 'b'}, ',') == 'a,b')\n"
            "assert(math.floor(2.5) == 2 and math.maxinteger > 0)\n"
            "assert(utf8.char(233) == '\\u{e9}')\n"
            "assert(coroutine.wrap(function() coroutine.yield(7) end)() == 7)\n"
            "assert(select('#', pcall(error, 'x')) == 2)\n"
            "assert(type(tostring) == 'function' and type(pairs) == 'function')\n"
            "assert(collectgarbage('count') > 0)\n"
            "local proxy = setmetatable({}, {__index = function(_, k) return k end})\n"
            "assert(proxy.anything == 'anything')\n"));
}

TEST_CASE("print is a no-op", "[lua][sandbox]") {
  CHECK(loads("print('loading hooks', 1, nil, {})\nassert(print('x') == nil)\n"));
}

TEST_CASE("metatables with __gc are refused", "[lua][sandbox]") {
  // Finalizers run with debug hooks off: this one would never end.
  LuaLoadError error = error_of(
      "local mt = {}\n"
      "mt.__gc = function() while true do end end\n"
      "setmetatable({}, mt)\n");
  CHECK(error.kind == LuaLoadErrorKind::kRuntime);
  CHECK(error.line == 3);
  CHECK_THAT(error.message, Catch::StartsWith("__gc metamethods are not allowed"));

  // The rest of setmetatable behaves as Lua's.
  CHECK(error_of("setmetatable(1, {})").message ==
        "bad argument #1 to 'setmetatable' (table expected, got number)");
  CHECK(error_of("local t = setmetatable({}, {__metatable = 1}); setmetatable(t, {})").message ==
        "cannot change a protected metatable");
  CHECK(loads("local t = {}\nassert(setmetatable(t, nil) == t)\n"));
}

TEST_CASE("an endless loop is stopped by the instruction bound", "[lua][sandbox]") {
  LuaLoadError error = error_of(
      "function ok() end\n"
      "while true do\n"
      "end\n");
  CHECK(error.kind == LuaLoadErrorKind::kInstructionLimit);
  CHECK((error.line == 2 || error.line == 3));
  CHECK(to_string("hooks.lua", error)
            .starts_with("hooks.lua:" + std::to_string(error.line) +
                         ": top-level code ran more than 10000000 instructions"));
}

TEST_CASE("the instruction bound is the one given", "[lua][sandbox]") {
  SandboxLimits small;
  small.instructions = 1000;
  LuaLoadError error = error_of("for i = 1, 10000 do end\n", small);
  CHECK(error.kind == LuaLoadErrorKind::kInstructionLimit);
  CHECK_THAT(error.message, Catch::Contains("more than 1000 instructions"));
  CHECK(loads("for i = 1, 100 do end\n", small));
}

TEST_CASE("catching the instruction bound's error does not escape it", "[lua][sandbox]") {
  CHECK(error_of("while true do pcall(function() while true do end end) end\n").kind ==
        LuaLoadErrorKind::kInstructionLimit);
  CHECK(error_of("while true do\n"
                 "  local ok = pcall(function() while true do end end)\n"
                 "  error('replaced')\n"
                 "end\n")
            .kind == LuaLoadErrorKind::kInstructionLimit);
}

TEST_CASE("loops inside coroutines and recursion are bounded too", "[lua][sandbox]") {
  CHECK(error_of("coroutine.wrap(function() while true do end end)()\n").kind ==
        LuaLoadErrorKind::kInstructionLimit);
  CHECK(
      error_of("while true do coroutine.wrap(function() for i = 1, 50 do end end)() end\n").kind ==
      LuaLoadErrorKind::kInstructionLimit);
  CHECK(error_of("local function f() return f() end\nf()\n").kind ==
        LuaLoadErrorKind::kInstructionLimit);
}

TEST_CASE("deep recursion ends in an error, not a crash", "[lua][sandbox]") {
  LuaLoadError error = error_of("local function f() return 1 + f() end\nf()\n");
  CHECK(error.kind != LuaLoadErrorKind::kSyntax);
  INFO(to_string("hooks.lua", error));
  if (error.kind == LuaLoadErrorKind::kRuntime)
    CHECK_THAT(error.message, Catch::Contains("stack overflow"));
}

TEST_CASE("a huge string is stopped by the memory cap", "[lua][sandbox]") {
  LuaLoadError error = error_of("local s = string.rep('x', 1 << 30)\n");
  CHECK(error.kind == LuaLoadErrorKind::kMemoryLimit);
  CHECK(to_string("hooks.lua", error) ==
        "hooks.lua: top-level code needed more than 64 MiB of memory; a hooks file should only "
        "define functions when loaded");

  // Doubling a string: each step fits until one does not.
  CHECK(error_of("local s = 'x'\nfor i = 1, 40 do s = s .. s end\n").kind ==
        LuaLoadErrorKind::kMemoryLimit);
}

TEST_CASE("string.rep with a gigantic count does not crash", "[lua][sandbox]") {
  LuaLoadError too_large = error_of("local s = ('x'):rep(1e18)\n");
  CHECK(too_large.kind == LuaLoadErrorKind::kRuntime);
  CHECK(too_large.line == 1);
  CHECK_THAT(too_large.message, Catch::Contains("too large"));

  // The string library refuses results past 2 GiB itself; below that, the cap.
  CHECK(error_of("local s = ('abc'):rep(1 << 40, ',')\n").kind == LuaLoadErrorKind::kRuntime);
  CHECK(error_of("local s = ('abc'):rep(1 << 28, ',')\n").kind == LuaLoadErrorKind::kMemoryLimit);
  CHECK(error_of("local s = ('x'):rep(math.maxinteger)\n").kind != LuaLoadErrorKind::kSyntax);
}

TEST_CASE("a growing table is stopped by the memory cap", "[lua][sandbox]") {
  SandboxLimits limits;
  limits.memory_bytes = 4 << 20;
  limits.instructions = 1'000'000'000;  // so that memory, not time, stops it
  LuaLoadError array = error_of("local t = {}\nfor i = 1, 1e9 do t[i] = i end\n", limits);
  CHECK(array.kind == LuaLoadErrorKind::kMemoryLimit);
  CHECK_THAT(array.message, Catch::Contains("more than 4 MiB"));

  LuaLoadError nested = error_of("t = {}\nwhile true do t[#t + 1] = {{}, 'x' .. #t} end\n", limits);
  CHECK(nested.kind == LuaLoadErrorKind::kMemoryLimit);
}

TEST_CASE("a caught memory error leaves a usable sandbox", "[lua][sandbox]") {
  auto result = check_lua_hooks("hooks.lua",
                                "local ok, err = pcall(string.rep, 'x', 1 << 30)\n"
                                "assert(not ok and err == 'not enough memory')\n"
                                "function after() end\n");
  REQUIRE(std::holds_alternative<LuaHooks>(result));
  CHECK(std::get<LuaHooks>(result).find("after") != nullptr);
}

TEST_CASE("a memory limit too small for Lua itself is an error, not a crash", "[lua][sandbox]") {
  for (std::size_t bytes : {std::size_t{0}, std::size_t{1000}, std::size_t{10'000}}) {
    SandboxLimits tiny;
    tiny.memory_bytes = bytes;
    LuaLoadError error = error_of("function f() end\n", tiny);
    CHECK(error.kind == LuaLoadErrorKind::kMemoryLimit);
    CHECK_THAT(error.message, Catch::Contains("sandbox itself does not fit"));
  }
}
