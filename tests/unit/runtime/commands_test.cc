#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <set>
#include <string>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/commands.h"
#include "dnspc/runtime/registry.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

// Runs one line through the table; every handler here answers at once.
rapidjson::Document run(CommandContext& c, std::string_view line) {
  std::string answer;
  int replies = 0;
  dispatch_command(c, line, [&](std::string json) {
    answer = std::move(json);
    ++replies;
  });
  REQUIRE(replies == 1);
  rapidjson::Document d;
  REQUIRE_FALSE(d.Parse(answer.c_str()).HasParseError());
  REQUIRE(d.IsObject());
  return d;
}

std::string str(const rapidjson::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

}  // namespace

TEST_CASE("commands: an unknown command is an error naming it and listing the table", "[runtime]") {
  CommandContext c;  // nothing behind it: no handler may run
  rapidjson::Document d = run(c, "frobnicate now");
  CHECK(str(d["error"]) == "unknown command 'frobnicate'");
  CHECK(str(d["command"]) == "frobnicate");
  REQUIRE(d["commands"].IsArray());
  std::set<std::string> listed;
  for (const auto& v : d["commands"].GetArray()) listed.insert(str(v));
  CHECK(listed.size() == control_commands().size());
  for (const char* n : {"stats", "servers", "latency", "blocks", "reload", "server", "overrides", "clear-blocks", "help"}) {
    CHECK(listed.count(n) == 1);
  }
  d = run(c, "");
  CHECK(str(d["error"]) == "unknown command ''");
}

TEST_CASE("commands: help returns the table itself", "[runtime]") {
  CommandContext c;
  rapidjson::Document d = run(c, "help");
  REQUIRE(d["commands"].IsArray());
  auto table = control_commands();
  REQUIRE(d["commands"].Size() == table.size());
  for (rapidjson::SizeType i = 0; i < table.size(); ++i) {
    const auto& e = d["commands"][i];
    CHECK(str(e["name"]) == table[i].name);
    CHECK(str(e["args"]) == table[i].args);
    CHECK(str(e["help"]) == table[i].help);
    CHECK_FALSE(table[i].help.empty());
  }
}

TEST_CASE("commands: a wrong number of arguments is an error with the synopsis", "[runtime]") {
  CommandContext c;
  rapidjson::Document d = run(c, "server main/192.0.2.1:53");
  CHECK(str(d["error"]) == "usage: server NAME up|down|auto");
  CHECK(str(d["usage"]) == "server NAME up|down|auto");
  d = run(c, "help me");
  CHECK(str(d["error"]) == "usage: help");
  d = run(c, "reload");  // no reloader behind this context: the old answer
  CHECK_FALSE(d["ok"].GetBool());
}

TEST_CASE("commands: server forces a state by key, overrides lists it, auto lifts it", "[runtime]") {
  auto im = std::make_shared<PolicyImage>();
  PoolSpec p;
  p.name = "main";
  ServerSpec a, b;
  a.address = *NetAddress::parse("192.0.2.1:53");
  b.address = *NetAddress::parse("192.0.2.2:53");
  p.servers = {a, b};
  im->pools.push_back(p);
  im->rules.push_back({"default", ActionKind::kPool, 0, 0, 0, 0});
  Registry reg(*im, 1);
  CommandContext c;
  c.registry = &reg;

  rapidjson::Document d = run(c, "server main/192.0.2.9:53 down");
  CHECK(str(d["error"]) == "unknown server 'main/192.0.2.9:53'");
  CHECK(d["servers"].Size() == 2);
  d = run(c, "server main/192.0.2.1:53 sideways");
  CHECK(d.HasMember("error"));

  d = run(c, "server main/192.0.2.1:53 down");
  CHECK(d["ok"].GetBool());
  CHECK(str(d["forced"]) == "down");
  CHECK(str(d["state"]) == "down");
  CHECK(str(d["checked"]) == "up");
  CHECK_FALSE(reg.server(0).up.load());
  d = run(c, "overrides");
  REQUIRE(d["servers"].Size() == 1);
  CHECK(str(d["servers"][0]["server"]) == "main/192.0.2.1:53");
  CHECK(str(d["servers"][0]["forced"]) == "down");
  CHECK(d["servers"][0]["since"].GetStringLength() == 24);

  // While forced, what the checks find goes aside; auto restores it.
  reg.server(0).set_health_up(false);
  CHECK_FALSE(reg.server(0).up.load());
  run(c, "server main/192.0.2.1:53 up");
  CHECK(reg.server(0).up.load());
  d = run(c, "server main/192.0.2.1:53 auto");
  CHECK(d["forced"].IsNull());
  CHECK(str(d["state"]) == "down");  // what the checks said meanwhile
  CHECK(run(c, "overrides")["servers"].Size() == 0);

  // A reload keeps the override, and a `state` change in the policy only
  // changes what is restored.
  run(c, "server main/192.0.2.2:53 up");
  auto next = std::make_shared<PolicyImage>(*im);
  next->pools[0].servers[1].mode = ServerMode::kDown;
  RegistryChanges changes;
  std::string error;
  REQUIRE(reg.update(*next, im.get(), changes, error));
  CHECK(reg.server(1).up.load());
  CHECK_FALSE(reg.server(1).checked_up);
  CHECK(run(c, "overrides")["servers"].Size() == 1);
  run(c, "server main/192.0.2.2:53 auto");
  CHECK_FALSE(reg.server(1).up.load());
}
