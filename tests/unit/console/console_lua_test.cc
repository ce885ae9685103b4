#include <catch2/catch.hpp>

#include "dnspc/lua/console_lua.h"

using namespace dnspc::lua;

namespace {

SandboxLimits limits() {
  SandboxLimits l;
  l.instructions = 1'000'000;
  l.memory_bytes = 4 << 20;
  return l;
}

ConsoleLineResult run(ConsoleLua& lua, const std::string& line) {
  ConsoleLineResult out;
  bool called = false;
  lua.run_line(line, [&](ConsoleLineResult r) {
    out = std::move(r);
    called = true;
  });
  REQUIRE(called);
  return out;
}

}  // namespace

TEST_CASE("console Lua: an expression shows its values, statements keep their globals") {
  ConsoleLua lua(limits());
  CHECK(run(lua, "1 + 1").output == "2\n");
  CHECK(run(lua, "x = 40").output.empty());
  CHECK(run(lua, "x + 2, 'a', nil, true").output == "42\ta\tnil\ttrue\n");
  CHECK(run(lua, "print('p', 1) print()").output == "p\t1\n\n");
}

TEST_CASE("console Lua: an error ends the line and leaves the state as it was") {
  ConsoleLua lua(limits());
  run(lua, "x = 1");
  auto r = run(lua, "x = 2; error('boom')");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("boom") != std::string::npos);
  CHECK(run(lua, "x").output == "2\n");  // what ran before the error stays, as in any Lua
  r = run(lua, "while true do end");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("instructions") != std::string::npos);
  r = run(lua, "t = {} for i = 1, 1e7 do t[i] = ('x'):rep(100) .. i end");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("memory") != std::string::npos);
  run(lua, "t = nil; collectgarbage()");
  CHECK(run(lua, "x + 1").output == "3\n");
  r = run(lua, "this is not lua");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("syntax") != std::string::npos);
}

TEST_CASE("console Lua: functions get their arguments and answer now or later") {
  ConsoleLua lua(limits());
  std::vector<ConsoleArgs> calls;
  ConsoleReturn pending;
  lua.add_function("now", [&](const ConsoleArgs& a, ConsoleReturn done) {
    calls.push_back(a);
    done({"now\n", ""});
  });
  lua.add_function("later", [&](const ConsoleArgs& a, ConsoleReturn done) {
    calls.push_back(a);
    pending = std::move(done);
  });
  lua.add_function("fails", [&](const ConsoleArgs&, ConsoleReturn done) {
    done({"", "it failed"});
  });

  auto r = run(lua, "now(3, 'x', {filter='a', top=2}, nil, true)");
  CHECK(r.output == "now\n");
  REQUIRE(calls.size() == 1);
  const ConsoleArgs& a = calls[0];
  REQUIRE(a.size() == 5);
  CHECK(a[0].kind == ConsoleArg::Kind::kNumber);
  CHECK(a[0].text == "3");
  CHECK(a[1].text == "x");
  CHECK(a[2].kind == ConsoleArg::Kind::kTable);
  CHECK(a[2].fields.size() == 2);
  CHECK(a[4].text == "true");

  ConsoleLineResult result;
  bool finished = false;
  lua.run_line("before = 1; later(); after = 2; return 'done'", [&](ConsoleLineResult res) {
    result = std::move(res);
    finished = true;
  });
  CHECK_FALSE(finished);
  CHECK(lua.busy());
  pending({"answered\n", ""});
  REQUIRE(finished);
  CHECK(result.output == "answered\ndone\n");
  CHECK(run(lua, "after").output == "2\n");

  r = run(lua, "fails()");
  CHECK_FALSE(r.ok);
  CHECK(r.error == "it failed");
  r = run(lua, "ok, e = pcall(fails); return ok, e");
  CHECK(r.output == "false\tit failed\n");
  // A function cannot wait inside the line's own coroutines.
  r = run(lua, "return coroutine.wrap(function() return pcall(now) end)()");
  CHECK(r.output.find("false") == 0);
}

TEST_CASE("console Lua: the globals, for completion") {
  ConsoleLua lua(limits());
  lua.add_function("showServers", [](const ConsoleArgs&, ConsoleReturn done) { done({}); });
  run(lua, "mine = 1");
  auto g = lua.global_names();
  CHECK(std::find(g.begin(), g.end(), "showServers") != g.end());
  CHECK(std::find(g.begin(), g.end(), "mine") != g.end());
  CHECK(std::find(g.begin(), g.end(), "string") != g.end());
  auto f = lua.field_names("string");
  CHECK(std::find(f.begin(), f.end(), "format") != f.end());
  CHECK(lua.field_names("mine").empty());
}
