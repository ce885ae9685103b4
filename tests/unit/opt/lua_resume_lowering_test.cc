// Lowering query rules with Lua actions (ir::lower): a Lua action that fails
// counts as not matched, so every rule up to the last Lua action carries the
// `from rule N` guard and the caller resumes past it with
// DecisionState::first_rule; rules after it, and every rule of a policy
// without Lua actions, lower as they always did. The interpreter and the
// optimised evaluator are checked on the resumed decisions here; native
// code in tests/unit/jit/lua_resume_test.cc.
#include <catch2/catch.hpp>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/describe.h"
#include "dnspc/ir/lower.h"
#include "dnspc/ir/state.h"
#include "dnspc/opt/index.h"
#include "dnspc/wire.h"

using namespace dnspc;

namespace {

ir::Program lowered(const std::string& rules) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;  // no Lua file: the functions are not looked up
  auto r =
      frontend::load_policy_text("t.dp", "pool p { server 192.0.2.1; }\n" + rules, diags, options);
  INFO(diag::render_text(diags));
  REQUIRE(r.model);
  REQUIRE_FALSE(diags.has_errors());
  return ir::lower(*r.model);
}

// The leaf tests of a rule's condition, in evaluation order.
std::vector<ir::Test> leaves(const ir::Program& p, uint32_t node) {
  const ir::Node& n = p.nodes[node];
  if (n.op == ir::Node::Op::kTest) return {p.tests[n.test]};
  std::vector<ir::Test> out;
  for (uint32_t c : n.children) {
    auto sub = leaves(p, c);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

// The rule's `from rule` index, or -1 without the guard.
int64_t guard_of(const ir::Program& p, uint32_t rule) {
  const ir::Test first = leaves(p, p.rules[rule].root)[0];
  return first.kind == ir::TestKind::kFromRule ? static_cast<int64_t>(first.value) : -1;
}

QueryView query(const std::string& name, Transport transport = Transport::kUdp) {
  static std::vector<std::vector<uint8_t>> packets;  // views point into their packets
  std::vector<uint8_t> p = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  uint8_t wire[256];
  size_t len = encode_name(name, wire, sizeof wire);
  p.insert(p.end(), wire, wire + len);
  p.insert(p.end(), {0, 1, 0, 1});
  packets.push_back(std::move(p));
  QueryView v;
  REQUIRE(parse_query(packets.back().data(), packets.back().size(), transport, v) ==
          ParseError::kOk);
  v.source = *NetAddress::parse("127.0.0.1");
  v.destination = *NetAddress::parse("127.0.0.1", 53);
  return v;
}

// The rule deciding `name` when evaluation starts at `first_rule`, by the
// interpreter and by the optimised evaluator (which must agree).
uint32_t rule_from(const ir::Program& p, uint32_t first_rule, const std::string& name,
                   Transport transport = Transport::kUdp) {
  const QueryView view = query(name, transport);
  ir::ProgramState a(p), b(p);
  a.for_query(1).first_rule = first_rule;
  b.for_query(1).first_rule = first_rule;
  const Verdict want = interp::interpret(p, view, a.state());
  const Verdict got = opt::evaluate(opt::optimize(p), view, b.state());
  CHECK(want == got);
  CHECK(a.snapshot() == b.snapshot());
  return want.rule;
}

}  // namespace

TEST_CASE("lowering: rules up to the last Lua action can be resumed past", "[ir][lua]") {
  auto p = lowered(
      "rule a: qname suffix \"a.example.\" => drop;\n"
      "rule b: qname suffix \"b.example.\" => lua act;\n"
      "rule c: qname suffix \"c.example.\" => truncate;\n"
      "rule d: qname suffix \"d.example.\" and qps > 5 => lua other;\n"
      "rule e: qname suffix \"b.example.\" => refuse;\n"
      "rule default: true => pool p;\n");
  REQUIRE(p.rules.size() == 6);
  CHECK(guard_of(p, 0) == 0);
  CHECK(guard_of(p, 1) == 1);
  CHECK(guard_of(p, 2) == 2);
  CHECK(guard_of(p, 3) == 3);
  CHECK(guard_of(p, 4) == -1);  // after the last Lua action: never skipped
  CHECK(guard_of(p, 5) == -1);
  CHECK(p.rules[1].action.terminal == ActionKind::kLua);
  CHECK(p.rules[3].action.terminal == ActionKind::kLua);

  // The guard joins the rule's top-level and, ahead of a truncate rule's
  // udp and of every stateful test: nothing is charged once skipped.
  CHECK(ir::describe_condition(p, p.rules[0].root) == "(from rule 0 and qname suffix a.example.)");
  CHECK(ir::describe_condition(p, p.rules[2].root) ==
        "(from rule 2 and udp and qname suffix c.example.)");
  const ir::Node& d = p.nodes[p.rules[3].root];
  REQUIRE(d.op == ir::Node::Op::kAnd);
  REQUIRE(d.children.size() == 3);
  CHECK(p.tests[p.nodes[d.children[0]].test].kind == ir::TestKind::kFromRule);
  CHECK(p.tests[p.nodes[d.children[2]].test].kind == ir::TestKind::kQps);

  // From rule 0, b's Lua action decides; resumed past it, e decides.
  CHECK(rule_from(p, 0, "www.b.example.") == 1);
  CHECK(rule_from(p, 2, "www.b.example.") == 4);
  CHECK(rule_from(p, 4, "www.b.example.") == 4);  // past d's Lua action: from e on
  CHECK(rule_from(p, 0, "www.a.example.") == 0);
  CHECK(rule_from(p, 1, "www.a.example.") == 5);  // a is skipped although it holds
  CHECK(rule_from(p, 0, "www.c.example.") == 2);
  CHECK(rule_from(p, 3, "www.c.example.") == 5);
  CHECK(rule_from(p, 0, "www.c.example.", Transport::kTcp) == 5);
  CHECK(rule_from(p, 3, "www.d.example.") == 5);  // under its bound: d does not hold

  // Resumed past d, its bound is not charged; from rule 0 it is.
  ir::ProgramState fresh(p), s(p);
  s.for_query(1).first_rule = 4;
  CHECK(interp::interpret(p, query("www.d.example."), s.state()).rule == 5);
  CHECK(s.snapshot() == fresh.snapshot());
  CHECK(s.for_query(1).first_rule == 0);  // each query starts from rule 0
  CHECK(interp::interpret(p, query("www.d.example."), s.state()).rule == 5);
  CHECK(s.snapshot() != fresh.snapshot());
}

TEST_CASE("lowering: resumed past a last rule whose Lua action failed, no rule holds",
          "[ir][lua]") {
  auto p = lowered(
      "rule a: qname suffix \"a.example.\" => drop;\n"
      "rule default: true => lua fallback;\n");
  CHECK(guard_of(p, 0) == 0);
  CHECK(guard_of(p, 1) == 1);
  CHECK(rule_from(p, 0, "x.example.") == 1);
  CHECK(rule_from(p, 2, "x.example.") == 2);
  ir::ProgramState s(p);
  s.for_query(1).first_rule = 2;
  CHECK(interp::interpret(p, query("x.example."), s.state()) == p.no_match_verdict());
  CHECK(p.no_match_verdict().action == ActionKind::kDrop);
}

TEST_CASE("lowering: a policy without Lua actions has no from-rule guard", "[ir][lua]") {
  // Pinned as lowered before query rules could be resumed: the same nodes,
  // tests and conditions.
  auto p = lowered(
      "rule a: qname suffix \"a.example.\" => drop;\n"
      "rule t: rd and qtype == ANY => truncate;\n"
      "rule s: (qname suffix \"s.example.\" or src in 192.0.2.0/24) and qps > 5 => refuse;\n"
      "rule l: lua deep and udp => drop;\n"
      "rule default: true => pool p;\n");
  for (const ir::Test& t : p.tests) CHECK(t.kind != ir::TestKind::kFromRule);
  for (uint32_t r = 0; r < p.rules.size(); ++r) CHECK(guard_of(p, r) == -1);
  CHECK(ir::describe_condition(p, p.rules[0].root) == "qname suffix a.example.");
  CHECK(ir::describe_condition(p, p.rules[1].root) == "(udp and rd and qtype == ANY)");
  CHECK(ir::describe_condition(p, p.rules[2].root) ==
        "((qname suffix s.example. or src in {192.0.2.0/24}) and qps > 5 burst 5)");
  CHECK(ir::describe_condition(p, p.rules[3].root) == "(udp and lua deep)");
  CHECK(ir::describe_condition(p, p.rules[4].root) == "true");
  CHECK(p.nodes.size() == 15);
  CHECK(p.tests.size() == 10);
}
