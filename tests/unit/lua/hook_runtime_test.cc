#include <catch2/catch.hpp>

#include "dnspc/lua/hook_runtime.h"
#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;
using dnspc::lua::ActionVerdict;
using dnspc::lua::AnswerVerdict;
using dnspc::lua::HookQuery;
using dnspc::lua::HookRuntime;
using dnspc::lua::HookServer;
using dnspc::lua::PickResult;

namespace {

const char* kHooks = R"(
function deep(q) return q.labels > 3 end
function from_office(q) return q.src == "10.1.2.3" and q.transport == "udp" end
function forever(q) while true do end end
function broken(q) error("boom") end
function number(q) return 42 end
function nothing(q) end
function typo(q) return q.qnmae == "x" end
function fields(q)
  return q.qname == "x.example." and q.qtype == 1 and q.rd and not q.cd and not q.edns and
         q.dst == "192.0.2.53" and q.rule == "r1" and #q.options == 0 and q.ecs == nil
end

function act(q)
  if q.qname == "pool.example." then return "pool", "backup", {tags = {"lua"}} end
  if q.qname == "rc.example." then return "rcode", "nxdomain" end
  if q.qname == "n.example." then return "rcode", 5 end
  if q.qname == "spoof.example." then return "spoof", {"A 192.0.2.7", "A 192.0.2.8"}, {ttl = 30} end
  if q.qname == "cname.example." then return "spoof", {"CNAME target.example."} end
  if q.qname == "txt.example." then return "spoof", {"TXT hello world"} end
  if q.qname == "drop.example." then q:tag("seen") return "drop" end
  if q.qname == "pass.example." then return nil end
  if q.qname == "badpool.example." then return "pool", "nope" end
  if q.qname == "badtag.example." then return "allow", {tags = {"nope"}} end
  if q.qname == "mix.example." then return "spoof", {"CNAME a.example.", "A 192.0.2.1"} end
  return "refuse"
end

function on_answer(q, a)
  if a.rcode == 2 then return "rcode", "REFUSED" end
  if a.size > 1000 then return "truncate" end
  if a.latency_ms > 500 then return "drop" end
  if a.answers == 7 then return 12 end
  return "keep"
end

function second_up(servers, q)
  local found = 0
  for i, s in ipairs(servers) do
    if s.up then
      found = found + 1
      if found == 2 then return i end
    end
  end
  return nil
end
function out_of_range(servers, q) return #servers + 1 end
function grow(q) local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end end
function keep_query(q) saved = q return true end
function use_saved(q) return saved.qname == "x" end
)";

struct View {
  std::vector<uint8_t> packet;
  QueryView view;
};

View make(const char* name, const char* src = "127.0.0.1") {
  View v{dnspc::testing::simple_query(name, 1), {}};
  v.view.source = *NetAddress::parse(src);
  v.view.destination = *NetAddress::parse("192.0.2.53");
  REQUIRE(parse_query(v.packet.data(), v.packet.size(), Transport::kUdp, v.view) == ParseError::kOk);
  return v;
}

struct Loaded {
  std::unique_ptr<HookRuntime> rt;
  std::vector<std::string> functions;
  uint32_t operator[](const char* name) const {
    for (size_t i = 0; i < functions.size(); ++i) {
      if (functions[i] == name) return static_cast<uint32_t>(i);
    }
    FAIL("no hook " << name);
    return 0;
  }
};

Loaded load(size_t memory = size_t{8} << 20, std::vector<std::string>* log = nullptr) {
  lua::HookSetup setup;
  setup.files = {{"hooks.lua", kHooks}};
  setup.functions = {"deep", "from_office", "forever", "broken",      "number",    "nothing",   "typo",
                     "fields", "act",       "on_answer", "second_up", "out_of_range", "grow", "keep_query",
                     "use_saved"};
  setup.pools = {"main", "backup"};
  setup.tags = {"seen", "lua"};
  setup.limits.load.memory_bytes = memory;
  if (log) {
    setup.log = [](void* context, std::string_view line) {
      static_cast<std::vector<std::string>*>(context)->emplace_back(line);
    };
    setup.log_context = log;
  }
  Loaded l;
  l.functions = setup.functions;
  std::string error;
  l.rt = HookRuntime::load(std::move(setup), error);
  INFO(error);
  REQUIRE(l.rt);
  return l;
}

HookQuery query_of(const View& v, std::string_view rule = "r1") {
  HookQuery q;
  q.view = &v.view;
  q.rule = rule;
  return q;
}

}  // namespace

TEST_CASE("predicates see the query and return booleans", "[lua][runtime]") {
  auto h = load();
  auto shallow = make("a.example.");
  auto deep = make("a.b.c.d.example.");
  auto office = make("x.example.", "10.1.2.3");
  auto q1 = query_of(shallow), q2 = query_of(deep), q3 = query_of(office);
  CHECK_FALSE(h.rt->predicate(h["deep"], q1));
  CHECK(h.rt->predicate(h["deep"], q2));
  CHECK(h.rt->predicate(h["from_office"], q3));
  CHECK_FALSE(h.rt->predicate(h["from_office"], q1));
  CHECK(h.rt->predicate(h["fields"], q3));
  CHECK(HookStats::get(h.rt->stats(h["deep"]).calls) == 2);
  CHECK(HookStats::get(h.rt->stats(h["deep"]).errors) == 0);
}

TEST_CASE("a failing or looping predicate is false, counted, and bounded", "[lua][runtime]") {
  std::vector<std::string> log;
  auto h = load(size_t{8} << 20, &log);
  auto v = make("a.example.");
  auto q = query_of(v);
  CHECK_FALSE(h.rt->predicate(h["forever"], q));
  CHECK(HookStats::get(h.rt->stats(h["forever"]).instruction_stops) == 1);
  CHECK(h.rt->last_error().find("budget of 100000 instructions (at hooks.lua:") != std::string::npos);
  CHECK_FALSE(h.rt->predicate(h["broken"], q));
  CHECK(h.rt->last_error() == "hooks.lua:5: boom");
  CHECK_FALSE(h.rt->predicate(h["number"], q));
  CHECK(h.rt->last_error() == "hooks.lua:6: returned a number; a Lua predicate returns true or false");
  CHECK_FALSE(h.rt->predicate(h["nothing"], q));  // nil is false, not an error
  CHECK(HookStats::get(h.rt->stats(h["nothing"]).errors) == 0);
  CHECK_FALSE(h.rt->predicate(h["typo"], q));
  CHECK(h.rt->last_error().find("no field 'qnmae'") != std::string::npos);
  // The budget is per call: the looping hook does not starve the next one.
  CHECK(h.rt->predicate(h["keep_query"], q));
  CHECK_FALSE(h.rt->predicate(h["forever"], q));
  CHECK(HookStats::get(h.rt->stats(h["forever"]).errors) == 2);
  // The log names the hook, where it is defined, the message and the fallback;
  // the second failure of `forever` within the second is not logged.
  REQUIRE(log.size() == 4);
  CHECK(log[0].find("lua hook 'forever' (hooks.lua:4) failed: ran past its budget") == 0);
  CHECK(log[0].find("the condition is false") != std::string::npos);
}

TEST_CASE("the query object is only readable during its call", "[lua][runtime]") {
  auto h = load();
  auto v = make("a.example.");
  auto q = query_of(v);
  REQUIRE(h.rt->predicate(h["keep_query"], q));
  // `saved` is the query object; read in a later call it reads that call's query.
  auto x = make("x");
  auto qx = query_of(x);
  CHECK_FALSE(h.rt->predicate(h["use_saved"], qx));  // "x." is not "x"
  CHECK(HookStats::get(h.rt->stats(h["use_saved"]).errors) == 0);
}

TEST_CASE("actions return verdicts in every shape", "[lua][runtime]") {
  auto h = load();
  using K = ActionVerdict::Kind;
  auto run = [&](const char* name, uint64_t* tags = nullptr) {
    auto v = make(name);
    auto q = query_of(v);
    ActionVerdict verdict = h.rt->action(h["act"], q);
    if (tags) *tags = q.tags;
    return verdict;
  };
  uint64_t tags = 0;
  ActionVerdict v = run("pool.example.", &tags);
  CHECK(v.kind == K::kPool);
  CHECK(v.pool == 1);
  CHECK(tags == 2);  // "lua"
  v = run("rc.example.");
  CHECK(v.kind == K::kRcode);
  CHECK(v.rcode == 3);
  CHECK(run("n.example.").rcode == 5);
  v = run("spoof.example.");
  REQUIRE(v.kind == K::kSpoof);
  REQUIRE(v.records.size() == 2);
  CHECK(v.records[0].type == 1);
  CHECK(v.records[0].ttl == 30);
  CHECK(std::vector<uint8_t>(v.records[1].data.begin(), v.records[1].data.end()) == std::vector<uint8_t>{192, 0, 2, 8});
  v = run("cname.example.");
  REQUIRE(v.records.size() == 1);
  CHECK(v.records[0].type == 5);
  CHECK(v.records[0].ttl == 60);
  CHECK(run("txt.example.").records[0].data.size() == 11);
  CHECK(run("drop.example.", &tags).kind == K::kDrop);
  CHECK(tags == 1);  // q:tag("seen")
  CHECK(run("other.example.").kind == K::kRefuse);
  CHECK(run("pass.example.").kind == K::kNoVerdict);
  CHECK(HookStats::get(h.rt->stats(h["act"]).errors) == 0);
  // Unusable verdicts fall back (no verdict) and count as errors.
  CHECK(run("badpool.example.").kind == K::kNoVerdict);
  CHECK(h.rt->last_error() == "hooks.lua:14: no pool 'nope' in the policy");
  CHECK(run("badtag.example.", &tags).kind == K::kNoVerdict);
  CHECK(tags == 0);
  CHECK(h.rt->last_error().find("no tag 'nope' in the policy (its tags: seen, lua)") != std::string::npos);
  CHECK(run("mix.example.").kind == K::kNoVerdict);
  CHECK(HookStats::get(h.rt->stats(h["act"]).errors) == 3);
}

TEST_CASE("response hooks see the answer", "[lua][runtime]") {
  auto h = load();
  auto v = make("a.example.");
  auto q = query_of(v);
  auto answer = [&](uint16_t rcode, uint32_t size, uint64_t latency_us, uint16_t answers) {
    ResponseFacts f;
    f.rcode = rcode;
    f.size = size;
    f.latency_us = latency_us;
    f.answers = answers;
    return h.rt->response(h["on_answer"], q, f);
  };
  using K = AnswerVerdict::Kind;
  AnswerVerdict a = answer(2, 100, 10, 1);
  CHECK(a.kind == K::kRcode);
  CHECK(a.rcode == 5);
  CHECK(answer(0, 2000, 10, 1).kind == K::kTruncate);
  CHECK(answer(0, 100, 600'000, 1).kind == K::kDrop);
  CHECK(answer(0, 100, 10, 1).kind == K::kKeep);
  CHECK(answer(0, 100, 10, 7).kind == K::kKeep);  // 12 is no verdict: kept, counted
  CHECK(HookStats::get(h.rt->stats(h["on_answer"]).errors) == 1);
}

TEST_CASE("load-balancing hooks pick a server, none, or fail", "[lua][runtime]") {
  auto h = load();
  auto v = make("a.example.");
  auto q = query_of(v, "");
  NetAddress a = *NetAddress::parse("192.0.2.1:53");
  std::vector<HookServer> servers(3);
  for (auto& s : servers) s.address = &a;
  servers[0].up = true;
  servers[2].up = true;
  PickResult r = h.rt->pick(h["second_up"], q, 0, servers);
  CHECK(r.kind == PickResult::Kind::kServer);
  CHECK(r.server == 2);
  servers[2].up = false;
  CHECK(h.rt->pick(h["second_up"], q, 0, servers).kind == PickResult::Kind::kNone);
  CHECK(h.rt->pick(h["out_of_range"], q, 1, servers).kind == PickResult::Kind::kFailed);
  CHECK(h.rt->last_error().find(": returned 4; the pool's servers are 1 to 3") != std::string::npos);
}

TEST_CASE("a hook that runs out of memory gets a fresh state", "[lua][runtime]") {
  auto h = load(size_t{4} << 20);
  auto v = make("a.example.");
  auto q = query_of(v);
  // `grow` keeps everything in a local: collected after the failed call, so
  // the state is kept.
  CHECK(h.rt->action(h["grow"], q).kind == ActionVerdict::Kind::kNoVerdict);
  CHECK(HookStats::get(h.rt->stats(h["grow"]).memory_stops) == 1);
  CHECK(h.rt->rebuilds() == 0);
  CHECK(h.rt->predicate(h["deep"], q) == false);
  CHECK(HookStats::get(h.rt->stats(h["deep"]).errors) == 0);
}

TEST_CASE("a state that keeps its memory after a memory stop is rebuilt", "[lua][runtime]") {
  lua::HookSetup setup;
  setup.files = {{"bomb.lua", "hoard = {}\nfunction bomb(q) for i = 1, 1e9 do hoard[#hoard + 1] = string.rep('y', 4096) .. i end end\n"
                              "function ok(q) return #hoard == 0 end\n"}};
  setup.functions = {"bomb", "ok"};
  setup.limits.load.memory_bytes = size_t{4} << 20;
  std::string error;
  auto rt = HookRuntime::load(std::move(setup), error);
  REQUIRE(rt);
  auto v = make("a.example.");
  auto q = query_of(v);
  CHECK_FALSE(rt->predicate(0, q));
  CHECK(rt->rebuilds() == 1);
  CHECK(HookStats::get(rt->stats(0).rebuilds) == 1);
  CHECK(rt->predicate(1, q));  // the hoard is gone with the old state
}

TEST_CASE("a predicate stuck in a backtracking pattern is false, counted, and bounded",
          "[lua][runtime]") {
  // One string.find call: stock Lua would run it as a single instruction.
  lua::HookSetup setup;
  setup.files = {{"hooks.lua", "function slow(q) return q.qname:rep(300):find('.-.-.-.-z') ~= nil end\n"}};
  setup.functions = {"slow"};
  setup.limits.call_instructions = 100'000;
  std::string error;
  auto rt = HookRuntime::load(std::move(setup), error);
  INFO(error);
  REQUIRE(rt);
  auto v = make("a.example.");
  auto q = query_of(v);
  CHECK_FALSE(rt->predicate(0, q));
  CHECK(rt->last_error().find("ran past its budget of 100000 instructions") == 0);
  CHECK(HookStats::get(rt->stats(0).instruction_stops) == 1);
}

TEST_CASE("loading fails clearly on a missing function or a bad file", "[lua][runtime]") {
  std::string error;
  lua::HookSetup missing;
  missing.files = {{"hooks.lua", kHooks}};
  missing.functions = {"missing"};
  CHECK_FALSE(HookRuntime::load(missing, error));
  CHECK(error.find("'missing'") != std::string::npos);
  lua::HookSetup bad;
  bad.files = {{"bad.lua", "function ("}};
  CHECK_FALSE(HookRuntime::load(bad, error));
  CHECK(error.find("bad.lua:1:") != std::string::npos);
}

TEST_CASE("the predicate binding maps uses to hooks and carries tags", "[lua][runtime]") {
  auto h = load();
  auto v = make("a.b.c.d.example.");
  const uint32_t uses[] = {h["nothing"], h["deep"]};
  uint64_t tags = 4;
  lua::PredicateBinding b{h.rt.get(), uses, 2, &tags};
  CHECK_FALSE(lua::PredicateBinding::call(&b, 0, &v.view));
  CHECK(lua::PredicateBinding::call(&b, 1, &v.view));
  CHECK_FALSE(lua::PredicateBinding::call(&b, 2, &v.view));
  CHECK(tags == 4);
}
