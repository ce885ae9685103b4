// What check_lua_hooks reports: the file's global functions with their lines
// and arity, and load errors with the line split out of Lua's message.
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/lua/hook_check.h"

using dnspc::lua::check_lua_hooks;
using dnspc::lua::LuaHooks;
using dnspc::lua::LuaLoadError;
using dnspc::lua::LuaLoadErrorKind;

namespace {

LuaHooks hooks_of(std::string_view source) {
  auto result = check_lua_hooks("hooks.lua", source);
  if (const auto* error = std::get_if<LuaLoadError>(&result)) {
    FAIL("unexpected load error: " << to_string("hooks.lua", *error));
  }
  return std::get<LuaHooks>(std::move(result));
}

LuaLoadError error_of(std::string_view source, std::string_view chunk_name = "hooks.lua") {
  auto result = check_lua_hooks(chunk_name, source);
  REQUIRE(std::holds_alternative<LuaLoadError>(result));
  return std::get<LuaLoadError>(std::move(result));
}

}  // namespace

TEST_CASE("global functions are listed with their line and arity", "[lua]") {
  LuaHooks hooks = hooks_of(
      "-- hooks for the policy\n"
      "function is_bad(q)\n"
      "  return q.qname == 'evil.example.'\n"
      "end\n"
      "\n"
      "silence = function(q, answer) end\n"
      "function pick(servers, q, ...) return 1 end\n"
      "function any(...) end\n");
  REQUIRE(hooks.functions.size() == 4);

  const auto* is_bad = hooks.find("is_bad");
  REQUIRE(is_bad != nullptr);
  CHECK(is_bad->line == 2);
  CHECK(is_bad->param_count == 1);
  CHECK_FALSE(is_bad->is_vararg);

  const auto* silence = hooks.find("silence");
  REQUIRE(silence != nullptr);
  CHECK(silence->line == 6);
  CHECK(silence->param_count == 2);

  const auto* pick = hooks.find("pick");
  REQUIRE(pick != nullptr);
  CHECK(pick->line == 7);
  CHECK(pick->param_count == 2);
  CHECK(pick->is_vararg);

  const auto* any = hooks.find("any");
  REQUIRE(any != nullptr);
  CHECK(any->param_count == 0);
  CHECK(any->is_vararg);

  CHECK(hooks.find("missing") == nullptr);
  CHECK(hooks.function_names() == std::vector<std::string>{"any", "is_bad", "pick", "silence"});
}

TEST_CASE("non-function globals, locals and fields are not hooks", "[lua]") {
  LuaHooks hooks = hooks_of(
      "limits = { qps = 10 }\n"
      "threshold = 3\n"
      "name = 'x'\n"
      "local function helper() end\n"
      "function limits.check() end\n"
      "function uses_helper() return helper() end\n");
  CHECK(hooks.function_names() == std::vector<std::string>{"uses_helper"});
  CHECK(hooks.other_globals.at("limits") == "table");
  CHECK(hooks.other_globals.at("threshold") == "number");
  CHECK(hooks.other_globals.at("name") == "string");
}

TEST_CASE("builtins are not hooks unless the file replaces them", "[lua]") {
  LuaHooks untouched = hooks_of("local x = 1\n");
  CHECK(untouched.functions.empty());
  CHECK(untouched.other_globals.empty());  // not _G, _VERSION, string, ...

  LuaHooks replaced = hooks_of(
      "function tostring(v) return 'x' end\n"
      "length = string.len\n");
  REQUIRE(replaced.find("tostring") != nullptr);
  CHECK(replaced.find("tostring")->line == 1);
  // A C function under a new name is a function the file provides, with no line.
  REQUIRE(replaced.find("length") != nullptr);
  CHECK(replaced.find("length")->line == 0);
  CHECK(replaced.find("print") == nullptr);
}

TEST_CASE("functions defined by top-level code that runs are found", "[lua]") {
  LuaHooks hooks = hooks_of(
      "for _, name in ipairs({'a', 'b'}) do\n"
      "  _G['is_' .. name] = function(q) return false end\n"
      "end\n");
  CHECK(hooks.function_names() == std::vector<std::string>{"is_a", "is_b"});
  CHECK(hooks.find("is_a")->line == 2);
}

TEST_CASE("a syntax error comes back with its line", "[lua]") {
  LuaLoadError error = error_of(
      "function ok() end\n"
      "\n"
      "function broken(q\n"
      "  return 1\n"
      "end\n");
  CHECK(error.kind == LuaLoadErrorKind::kSyntax);
  CHECK(error.line == 4);
  CHECK(error.message == "')' expected near 'return'");
  CHECK(to_string("hooks.lua", error) == "hooks.lua:4: ')' expected near 'return'");
}

TEST_CASE("an unclosed function is reported where the file ends", "[lua]") {
  LuaLoadError error = error_of("function f()\n  return 1\n");
  CHECK(error.kind == LuaLoadErrorKind::kSyntax);
  CHECK(error.line == 3);
  CHECK(error.message == "'end' expected (to close 'function' at line 1) near <eof>");
}

TEST_CASE("a runtime error at top level comes back with its line", "[lua]") {
  LuaLoadError error = error_of(
      "function ok() end\n"
      "local t = nil\n"
      "t.x = 1\n");
  CHECK(error.kind == LuaLoadErrorKind::kRuntime);
  CHECK(error.line == 3);
  CHECK(error.message == "attempt to index a nil value (local 't')");
}

TEST_CASE("an error raised in a function called at top level names its line", "[lua]") {
  LuaLoadError error = error_of(
      "local function setup()\n"
      "  error('no config')\n"
      "end\n"
      "setup()\n");
  CHECK(error.kind == LuaLoadErrorKind::kRuntime);
  CHECK(error.line == 2);
  CHECK(error.message == "no config");
}

TEST_CASE("an error inside a coroutine names the line that raised it", "[lua]") {
  LuaLoadError error = error_of(
      "local run = coroutine.wrap(function()\n"
      "  error('in coroutine')\n"
      "end)\n"
      "run()\n");
  CHECK(error.line == 2);
  CHECK(error.message == "in coroutine");
}

TEST_CASE("errors without a position still get the line from the stack", "[lua]") {
  LuaLoadError level_zero = error_of("\n\nerror('plain', 0)\n");
  CHECK(level_zero.line == 3);
  CHECK(level_zero.message == "plain");

  LuaLoadError table = error_of("x = 1\nerror({code = 1})\n");
  CHECK(table.line == 2);
  CHECK(table.message == "error object is a table value");

  LuaLoadError number = error_of("error(42)\n");
  CHECK(number.message == "42");
}

TEST_CASE("the chunk name is the file name the policy wrote", "[lua]") {
  LuaLoadError error = error_of("x = = 1\n", "conf/hooks.lua");
  CHECK(error.line == 1);
  CHECK(error.message == "unexpected symbol near '='");
  CHECK(to_string("conf/hooks.lua", error) == "conf/hooks.lua:1: unexpected symbol near '='");

  // Lua shortens long names in its messages; the prefix is still stripped.
  std::string long_name(80, 'd');
  long_name += "/hooks.lua";
  LuaLoadError long_error = error_of("\nx = = 1\n", long_name);
  CHECK(long_error.line == 2);
  CHECK(long_error.message == "unexpected symbol near '='");
}

TEST_CASE("precompiled bytecode is refused", "[lua]") {
  LuaLoadError error = error_of(std::string_view("\x1bLua\x54\x00 junk", 11));
  CHECK(error.kind == LuaLoadErrorKind::kSyntax);
  CHECK_THAT(error.message, Catch::Contains("binary chunk"));
}

TEST_CASE("an empty file defines no hooks", "[lua]") {
  CHECK(hooks_of("").functions.empty());
}
