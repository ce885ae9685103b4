// Query rules resumed past a Lua action that fell back (the rule counts as
// not matched): DecisionState::first_rule read by the reference
// interpreter, the optimised evaluator and native code alike, and a QPS
// bound before the Lua action charged once per query, not once per call.
// Lowering itself is tested in tests/unit/opt/lua_resume_lowering_test.cc.
#include <catch2/catch.hpp>

#include <array>
#include <functional>

#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/wire.h"
#include "jit_test_support.h"

using namespace dnspc;

namespace {

// One policy, its three evaluators, and a state for each.
struct Engines {
  using Decide = std::function<Verdict(const QueryView&, DecisionState&)>;

  ir::Program reference;
  std::shared_ptr<const opt::OptimizedPolicy> optimized;
  std::unique_ptr<jit::NativePolicy> native;
  std::array<const char*, 3> names = {"interpreter", "optimised", "native"};
  std::array<Decide, 3> decide;
  std::array<std::unique_ptr<ir::ProgramState>, 3> states;

  explicit Engines(const std::string& rules) {
    std::string error;
    optimized =
        testing::optimized_policy("pool p { server 192.0.2.1; }\n" + rules, error, &reference);
    INFO(error);
    REQUIRE(optimized);
    native = testing::test_engine().compile(optimized, error);
    INFO(error);
    REQUIRE(native);
    decide[0] = [this](const QueryView& v, DecisionState& s) {
      return interp::interpret(reference, v, s);
    };
    decide[1] = [this](const QueryView& v, DecisionState& s) {
      return opt::evaluate(*optimized, v, s);
    };
    decide[2] = [this](const QueryView& v, DecisionState& s) { return native->decide(v, s); };
    states[0] = std::make_unique<ir::ProgramState>(reference);
    states[1] = std::make_unique<ir::ProgramState>(optimized->program);
    states[2] = std::make_unique<ir::ProgramState>(optimized->program);
    states[2]->reserve_scratch(native->scratch_words());
  }
};

QueryView view_of(const std::string& name) {
  static std::vector<std::vector<uint8_t>> packets;  // views point into their packets
  std::vector<uint8_t> p = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  uint8_t wire[256];
  size_t len = encode_name(name, wire, sizeof wire);
  p.insert(p.end(), wire, wire + len);
  p.insert(p.end(), {0, 1, 0, 1});
  packets.push_back(std::move(p));
  QueryView v;
  REQUIRE(parse_query(packets.back().data(), packets.back().size(), Transport::kUdp, v) ==
          ParseError::kOk);
  v.source = *NetAddress::parse("127.0.0.1");
  v.destination = *NetAddress::parse("127.0.0.1", 53);
  return v;
}

// Every evaluator's verdict for `name` at `now_ns` from rule `first_rule`
// on: all equal, returned once. `fresh` starts a new query (for_query:
// first_rule back to 0) before setting first_rule; otherwise the call
// resumes the evaluator's current query.
Verdict decide_all(Engines& e, const std::string& name, uint32_t first_rule, uint64_t now_ns = 1,
                   bool fresh = true) {
  const QueryView view = view_of(name);
  std::array<Verdict, 3> got;
  for (size_t k = 0; k < got.size(); ++k) {
    DecisionState& s = fresh ? e.states[k]->for_query(now_ns) : e.states[k]->state();
    s.first_rule = first_rule;
    got[k] = e.decide[k](view, s);
  }
  for (size_t k = 1; k < got.size(); ++k) {
    INFO(e.names[k] << " against the interpreter, " << name << " from rule " << first_rule);
    CHECK(got[k] == got[0]);
  }
  return got[0];
}

}  // namespace

TEST_CASE("every evaluator resumes past a Lua action that fell back", "[jit][lua]") {
  Engines e(
      "rule r0: qname suffix \"a.example.\" => lua act;\n"
      "rule r1: true => drop;\n");
  Verdict v = decide_all(e, "www.a.example.", 0);
  CHECK(v.rule == 0);
  CHECK(v.action == ActionKind::kLua);
  CHECK(v.argument == 0);  // the Lua action's index
  v = decide_all(e, "www.a.example.", 1);
  CHECK(v.rule == 1);
  CHECK(v.action == ActionKind::kDrop);
  CHECK(decide_all(e, "www.b.example.", 0).rule == 1);
  CHECK(decide_all(e, "www.b.example.", 1).rule == 1);
  // A fresh query starts from rule 0 again whatever the last one left.
  for (auto& s : e.states) CHECK(s->for_query(1).first_rule == 0);
  CHECK(decide_all(e, "www.a.example.", 0).rule == 0);
}

TEST_CASE("a Lua action in the last rule falls back to the no-rule verdict", "[jit][lua]") {
  Engines e(
      "rule r0: qname suffix \"a.example.\" => drop;\n"
      "rule r1: true => lua last;\n");
  CHECK(decide_all(e, "www.b.example.", 0).rule == 1);
  CHECK(decide_all(e, "www.b.example.", 2) == e.reference.no_match_verdict());
  CHECK(decide_all(e, "www.a.example.", 1).rule == 1);  // r0 skipped although it holds
}

TEST_CASE("a QPS bound before a Lua action is charged once per query", "[jit][lua]") {
  // Two tokens at one instant. shaped holds once a.example.'s traffic is
  // over the bound; until then the Lua action decides, and when it falls
  // back the query is resumed past it (first_rule 2) without touching the
  // bucket again.
  Engines e(
      "rule shaped: qname suffix \"a.example.\" and qps > 2 => rcode SERVFAIL;\n"
      "rule act: qname suffix \"a.example.\" => lua act;\n"
      "rule default: true => pool p;\n");
  for (int query = 0; query < 2; ++query) {
    INFO("query " << query);
    CHECK(decide_all(e, "www.a.example.", 0).rule == 1);  // takes a token: under the bound
    const std::vector<uint64_t> charged = e.states[0]->snapshot();
    CHECK(decide_all(e, "www.a.example.", 2, 1, false).rule == 2);  // the Lua action fell back
    for (auto& s : e.states) CHECK(s->snapshot() == charged);
  }
  // Charged twice, not four times: the third query is the first over it.
  CHECK(decide_all(e, "www.a.example.", 0).rule == 0);
  // Resumed past shaped, a query over the bound is not refused by it.
  CHECK(decide_all(e, "www.a.example.", 1, 1, false).rule == 1);
}
