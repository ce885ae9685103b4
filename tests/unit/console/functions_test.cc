#include <catch2/catch.hpp>

#include "dnspc/lua/console_lua.h"
#include "dnspc/runtime/console_functions.h"

using namespace dnspc::runtime::console;
using dnspc::lua::ConsoleLineResult;
using dnspc::lua::ConsoleLua;

namespace {

// The command table's answers, as the control plane gives them.
struct FakeCommands {
  std::vector<std::string> lines;
  std::function<void(std::string)> reload_reply;
  CommandRunner runner() {
    return [this](std::string_view line, std::function<void(std::string)> reply) {
      lines.emplace_back(line);
      if (line == "servers") {
        return reply(
            R"({"servers": [{"key": "main/192.0.2.1:53", "pool": "main", "address": "192.0.2.1:53",
          "state": "down", "mode": "auto", "forced": "down", "weight": 1, "order": 1, "qps_limit": 0,
          "queries": 10, "timeouts": 2, "outstanding": 1, "latency_avg_us": 1500},
          {"key": "other/192.0.2.2:53", "pool": "other", "address": "192.0.2.2:53", "state": "up", "mode": "auto",
          "forced": null, "weight": 1, "order": 1, "qps_limit": 100, "queries": 5, "timeouts": 0,
          "outstanding": 0, "latency_avg_us": 0}], "pools": []})");
      }
      if (line.starts_with("series")) {
        return reply(R"({"samples": [{"servers": {"main/192.0.2.1:53": {"queries": 7}}}]})");
      }
      if (line == "pools") return reply(R"({"pools": [{"name": "main"}, {"name": "other"}]})");
      if (line == "blocks")
        return reply(R"({"blocks": [], "totals": [{"block": "flood", "active": 0, "hits": 0}]})");
      if (line.starts_with("top "))
        return reply(R"({"records": 9, "total": 4, "top": [{"key": "a.test.", "count": 3}]})");
      if (line.starts_with("reload")) {
        reload_reply = std::move(reply);
        return;
      }
      reply(R"({"error": "no such thing"})");
    };
  }
};

ConsoleLineResult run(ConsoleLua& lua, const std::string& line) {
  ConsoleLineResult out;
  lua.run_line(line, [&](ConsoleLineResult r) { out = std::move(r); });
  return out;
}

}  // namespace

TEST_CASE(
    "console functions: showServers renders a table with a totals row and the override marked") {
  FakeCommands fake;
  ConsoleLua lua({});
  bool json = false;
  add_console_functions(lua, fake.runner(), [&] { return json; });
  auto r = run(lua, "showServers()");
  REQUIRE(r.ok);
  CHECK(r.output.find("main/192.0.2.1:53") != std::string::npos);
  CHECK(r.output.find("down*") != std::string::npos);
  CHECK(r.output.find("All") != std::string::npos);
  CHECK(r.output.find("1.50") != std::string::npos);  // the latency in ms
  r = run(lua, "showServers('other')");
  CHECK(r.output.find("main/192.0.2.1:53") == std::string::npos);
  json = true;
  r = run(lua, "showServers()");
  CHECK(r.output.rfind("{\"servers\"", 0) == 0);
}

TEST_CASE(
    "console functions: arguments become command lines, bad ones and command errors are Lua "
    "errors") {
  FakeCommands fake;
  ConsoleLua lua({});
  add_console_functions(lua, fake.runner(), [] { return false; });
  auto r = run(lua, "topQueries(5, 2)");
  REQUIRE(r.ok);
  CHECK(fake.lines.back() == "top queries 5 --labels 2");
  CHECK(r.output.find("a.test.") != std::string::npos);
  CHECK(r.output.find("75.0%") != std::string::npos);
  run(lua, "topResponses(3, 'REFUSED')");
  CHECK(fake.lines.back() == "top responses REFUSED 3");
  r = run(lua, "topQueries(0)");
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("1 to 1000") != std::string::npos);
  r = run(lua, "setServerState('x y', 'up')");
  CHECK_FALSE(r.ok);
  r = run(lua, "showOverrides()");  // the fake answers an error
  CHECK_FALSE(r.ok);
  CHECK(r.error == "showOverrides: no such thing");
}

TEST_CASE(
    "console functions: reload waits for its answer, and a rejection is an error with "
    "diagnostics") {
  FakeCommands fake;
  ConsoleLua lua({});
  add_console_functions(lua, fake.runner(), [] { return false; });
  ConsoleLineResult r;
  bool done = false;
  lua.run_line("reload('/x.dp')", [&](ConsoleLineResult res) {
    r = std::move(res);
    done = true;
  });
  CHECK_FALSE(done);
  CHECK(fake.lines.back() == "reload /x.dp");
  fake.reload_reply(
      R"({"ok": false, "message": "rejected", "diagnostics": "/x.dp:2:9: error: bad"})");
  REQUIRE(done);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("/x.dp:2:9") != std::string::npos);
}

TEST_CASE("console completion: globals, fields, then names inside arguments") {
  FakeCommands fake;
  ConsoleLua lua({});
  add_console_functions(lua, fake.runner(), [] { return false; });
  auto c = complete_line(lua, fake.runner(), "showSer");
  CHECK(c == std::vector<std::string>{"showServers"});
  c = complete_line(lua, fake.runner(), "x = string.for");
  CHECK(c == std::vector<std::string>{"string.format"});
  c = complete_line(lua, fake.runner(), "setServerState(\"ma");
  CHECK(c == std::vector<std::string>{"main/192.0.2.1:53"});
  c = complete_line(lua, fake.runner(), "setServerState('main/192.0.2.1:53', 'd");
  CHECK(c == std::vector<std::string>{"down"});
  c = complete_line(lua, fake.runner(), "clearDynBlocks(\"");
  CHECK(c == std::vector<std::string>{"flood"});
  c = complete_line(lua, fake.runner(), "topResponses(5, \"NX");
  CHECK(c == std::vector<std::string>{"NXDOMAIN", "NXRRSET"});
  c = complete_line(lua, fake.runner(), "showServers(\"o");
  CHECK(c == std::vector<std::string>{"other"});
  CHECK(completion_word("setServerState(\"main/1") == "main/1");
  CHECK(completion_word("a = b") == "b");
}
