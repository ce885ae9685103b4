#include <catch2/catch.hpp>

#include "dnspc/lua/hook_runtime.h"
#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;
using dnspc::lua::HookRuntime;

namespace {

const char* kHooks = R"(
function deep(q) return q.labels > 3 end
function from_office(q) return q.src == "10.1.2.3" and q.transport == "udp" end
function forever(q) while true do end end
function broken(q) error("boom") end
function number(q) return 42 end
function nothing(q) end
)";

struct View {
  std::vector<uint8_t> packet;
  QueryView view;
};

View make(const char* name, const char* src = "127.0.0.1") {
  View v{dnspc::testing::simple_query(name, 1), {}};
  v.view.source = *NetAddress::parse(src);
  REQUIRE(parse_query(v.packet.data(), v.packet.size(), Transport::kUdp, v.view) == ParseError::kOk);
  return v;
}

std::unique_ptr<HookRuntime> load(std::vector<std::string> functions) {
  std::string error;
  auto rt = HookRuntime::load({{"hooks.lua", kHooks}}, functions, error);
  INFO(error);
  REQUIRE(rt);
  return rt;
}

}  // namespace

TEST_CASE("predicates see the query and return booleans", "[lua][runtime]") {
  auto rt = load({"deep", "from_office"});
  auto shallow = make("a.example.");
  auto deep = make("a.b.c.d.example.");
  auto office = make("x.example.", "10.1.2.3");
  CHECK_FALSE(rt->predicate(0, shallow.view));
  CHECK(rt->predicate(0, deep.view));
  CHECK(rt->predicate(1, office.view));
  CHECK_FALSE(rt->predicate(1, shallow.view));
  CHECK(rt->errors() == 0);
  CHECK(HookRuntime::call_predicate(rt.get(), 0, &deep.view));
}

TEST_CASE("a failing or looping predicate is false, counted, and bounded", "[lua][runtime]") {
  auto rt = load({"forever", "broken", "number", "nothing"});
  auto q = make("a.example.");
  CHECK_FALSE(rt->predicate(0, q.view));
  CHECK(rt->last_error() == "instruction limit reached");
  CHECK_FALSE(rt->predicate(1, q.view));
  CHECK(rt->last_error().find("boom") != std::string::npos);
  CHECK_FALSE(rt->predicate(2, q.view));
  CHECK(rt->errors() == 3);
  CHECK_FALSE(rt->predicate(3, q.view));  // nil is false, not an error
  CHECK(rt->errors() == 3);
  // The budget is per call: the looping hook does not starve the next one.
  CHECK_FALSE(rt->predicate(0, q.view));
  CHECK(rt->errors() == 4);
}

TEST_CASE("a predicate stuck in a backtracking pattern is false, counted, and bounded",
          "[lua][runtime]") {
  // One string.find call: stock Lua would run it as a single instruction.
  const char* hooks = "function slow(q) return q.qname:rep(300):find('.-.-.-.-z') ~= nil end\n";
  dnspc::lua::HookLimits limits;
  limits.load.instructions = 1'000'000;
  std::string error;
  auto rt = HookRuntime::load({{"hooks.lua", hooks}}, {"slow"}, error, limits);
  INFO(error);
  REQUIRE(rt);
  auto q = make("a.example.");
  CHECK_FALSE(rt->predicate(0, q.view));
  CHECK(rt->last_error() == "instruction limit reached");
  CHECK(rt->errors() == 1);
}

TEST_CASE("loading fails clearly on a missing function or a bad file", "[lua][runtime]") {
  std::string error;
  CHECK_FALSE(HookRuntime::load({{"hooks.lua", kHooks}}, {"missing"}, error));
  CHECK(error.find("'missing'") != std::string::npos);
  CHECK_FALSE(HookRuntime::load({{"bad.lua", "function ("}}, {}, error));
  CHECK(error.find("bad.lua:1:") != std::string::npos);
}
