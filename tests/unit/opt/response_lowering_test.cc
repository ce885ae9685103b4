// Lowering response rules (ir::lower_responses): each response fact becomes
// its own test reading DecisionState::response, query-side conditions reuse
// the query tests, actions map to ActionKind as docs/language.md says, and
// the `from rule` guard lets the caller resume after a tag/log-only rule.
// Each fact is also evaluated by the interpreter and the optimised
// evaluator at its boundaries.
#include <catch2/catch.hpp>

#include <bit>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/describe.h"
#include "dnspc/ir/lower.h"
#include "dnspc/ir/state.h"
#include "dnspc/opt/index.h"
#include "dnspc/wire.h"
#include "response_loop.h"

using namespace dnspc;

namespace {

const char* kHead =
    "pool p { server 192.0.2.1; }\n"
    "rule tagged_q: qname suffix \"t.example.\" => tag \"q\" pool p;\n"
    "rule default: true => pool p;\n";

ir::Program responses(const std::string& rules) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  auto r = frontend::load_policy_text("t.dp", kHead + rules, diags);
  INFO(diag::render_text(diags));
  REQUIRE(r.model);
  REQUIRE_FALSE(diags.has_errors());
  return ir::lower_responses(*r.model);
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

ir::Test only_leaf(const ir::Program& p) {
  REQUIRE(p.rules.size() == 1);
  auto l = leaves(p, p.rules[0].root);
  REQUIRE(l.size() == 1);
  return l[0];
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

// The one rule's verdict on an answer with these facts, by the interpreter
// and by the optimised evaluator (which must agree).
bool holds(const ir::Program& p, ResponseFacts facts, const QueryView& view = query("a.example.")) {
  ir::ProgramState a(p), b(p);
  a.for_query(1).response = facts;
  b.for_query(1).response = facts;
  const Verdict want = interp::interpret(p, view, a.state());
  const Verdict got = opt::evaluate(opt::optimize(p), view, b.state());
  CHECK(want == got);
  return want.rule == 0;
}

}  // namespace

TEST_CASE("lowering responses: rcode", "[ir][responses]") {
  auto p = responses("response rule r: rcode == SERVFAIL => drop;\n");
  CHECK(p.responses);
  const ir::Test t = only_leaf(p);
  CHECK(t.kind == ir::TestKind::kResponseRcode);
  CHECK(t.op == ir::Compare::kEq);
  CHECK(t.value == 2);
  CHECK(ir::describe_test(p, p.nodes[p.rules[0].root].test) == "rcode == SERVFAIL");
  CHECK(holds(p, {.rcode = 2}));
  CHECK_FALSE(holds(p, {.rcode = 3}));
  CHECK_FALSE(holds(p, {.rcode = 2 | 16}));  // an extended rcode is another rcode

  auto ne = responses("response rule r: rcode != NOERROR => drop;\n");
  CHECK(only_leaf(ne).op == ir::Compare::kNe);
  CHECK(holds(ne, {.rcode = 3}));
  CHECK_FALSE(holds(ne, {.rcode = 0}));
}

TEST_CASE("lowering responses: answer count", "[ir][responses]") {
  auto p = responses("response rule r: answers >= 3 => drop;\n");
  const ir::Test t = only_leaf(p);
  CHECK(t.kind == ir::TestKind::kAnswerCount);
  CHECK(t.op == ir::Compare::kGe);
  CHECK(t.value == 3);
  CHECK(holds(p, {.answers = 3}));
  CHECK(holds(p, {.answers = 65535}));
  CHECK_FALSE(holds(p, {.answers = 2}));
}

TEST_CASE("lowering responses: latency in whole milliseconds", "[ir][responses]") {
  auto p = responses("response rule r: latency > 500ms => drop;\n");
  const ir::Test t = only_leaf(p);
  CHECK(t.kind == ir::TestKind::kLatency);
  CHECK(t.op == ir::Compare::kGt);
  CHECK(t.value == 500);
  CHECK(ir::describe_test(p, p.nodes[p.rules[0].root].test) == "latency > 500ms");
  CHECK_FALSE(holds(p, {.latency_us = 500'000}));
  CHECK_FALSE(holds(p, {.latency_us = 500'999}));  // still 500 ms
  CHECK(holds(p, {.latency_us = 501'000}));
  CHECK(holds(p, {.latency_us = 3'600'000'000}));

  auto s = responses("response rule r: latency == 2s => drop;\n");
  CHECK(only_leaf(s).value == 2000);
  CHECK(holds(s, {.latency_us = 2'000'500}));
  CHECK_FALSE(holds(s, {.latency_us = 1'999'999}));
}

TEST_CASE("lowering responses: response size", "[ir][responses]") {
  auto p = responses("response rule r: response.size < 512 => drop;\n");
  const ir::Test t = only_leaf(p);
  CHECK(t.kind == ir::TestKind::kResponseSize);
  CHECK(t.op == ir::Compare::kLt);
  CHECK(t.value == 512);
  CHECK(holds(p, {.size = 511}));
  CHECK_FALSE(holds(p, {.size = 512}));
  CHECK_FALSE(holds(p, {.size = 65535}));
}

TEST_CASE("lowering responses: query-side conditions reuse the query tests", "[ir][responses]") {
  auto p = responses(
      "response rule r: rcode == NXDOMAIN and qname suffix \"x.example.\" and tagged \"q\" => "
      "drop;\n");
  auto l = leaves(p, p.rules[0].root);
  REQUIRE(l.size() == 3);  // one flat and
  CHECK(p.nodes[p.rules[0].root].op == ir::Node::Op::kAnd);
  CHECK(l[0].kind == ir::TestKind::kResponseRcode);
  CHECK(l[1].kind == ir::TestKind::kName);
  CHECK(l[2].kind == ir::TestKind::kTagged);
  REQUIRE(p.name_sets.size() == 1);
  CHECK(ir::wire_to_text(p.name_sets[0].entries[0].wire) == "x.example.");
  CHECK(p.tags[l[2].value] == "q");

  ir::ProgramState state(p);
  DecisionState& s = state.for_query(1);
  s.response.rcode = 3;
  s.tags = uint64_t{1} << l[2].value;
  CHECK(interp::interpret(p, query("www.x.example."), s).rule == 0);
  s.tags = 0;
  CHECK(interp::interpret(p, query("www.x.example."), s).rule == 1);
  s.tags = uint64_t{1} << l[2].value;
  CHECK(interp::interpret(p, query("www.y.example."), s).rule == 1);
}

TEST_CASE("lowering responses: actions and what no match means", "[ir][responses]") {
  auto p = responses(
      "response rule a: rcode == SERVFAIL => tag \"s\" log;\n"
      "response rule b: answers == 0 => log drop;\n"
      "response rule c: latency > 1s => truncate;\n"
      "response rule d: response.size > 1000 => tag \"big\" rcode REFUSED;\n");
  REQUIRE(p.rules.size() == 4);
  const ir::RuleAction& a = p.rules[0].action;
  CHECK(a.terminal == ActionKind::kAllow);
  CHECK(a.modifiers == (modifier_bits::kTag | modifier_bits::kLog));
  CHECK(p.tags[std::countr_zero(a.tag_bits)] == "s");
  CHECK(ir::describe_action(p, 0) ==
        "tag \"s\" log (no terminal action: the next response rule runs)");
  CHECK(p.rules[1].action.terminal == ActionKind::kDrop);
  CHECK(p.rules[1].action.modifiers == modifier_bits::kLog);
  CHECK(p.rules[2].action.terminal == ActionKind::kTruncate);
  CHECK(p.rules[3].action.terminal == ActionKind::kRcode);
  CHECK(p.rules[3].action.argument == 5);
  CHECK(p.tags[std::countr_zero(p.rules[3].action.tag_bits)] == "big");

  ir::ProgramState state(p);
  DecisionState& s = state.for_query(1);
  s.response = {.latency_us = 10, .size = 100, .rcode = 0, .answers = 1};
  const Verdict none = interp::interpret(p, query("a.example."), s);
  CHECK(none.rule == 4);
  CHECK(none.action == ActionKind::kAllow);
}

TEST_CASE("lowering responses: truncate holds over UDP only", "[ir][responses]") {
  auto p = responses("response rule c: latency > 1s => truncate;\n");
  auto l = leaves(p, p.rules[0].root);
  REQUIRE(l.size() == 2);
  CHECK(l[0].kind == ir::TestKind::kTransport);
  CHECK(l[0].value == 0);
  CHECK(holds(p, {.latency_us = 2'000'000}, query("a.example.", Transport::kUdp)));
  CHECK_FALSE(holds(p, {.latency_us = 2'000'000}, query("a.example.", Transport::kTcp)));
}

TEST_CASE("lowering responses: rules up to the last tag/log-only one can be resumed past",
          "[ir][responses]") {
  auto p = responses(
      "response rule a: rcode == SERVFAIL => drop;\n"
      "response rule b: answers == 0 => tag \"empty\";\n"
      "response rule c: answers == 0 => log;\n"
      "response rule d: true => drop;\n");
  auto guard_of = [&](uint32_t r) -> int64_t {
    const ir::Test first = leaves(p, p.rules[r].root)[0];
    return first.kind == ir::TestKind::kFromRule ? static_cast<int64_t>(first.value) : -1;
  };
  CHECK(guard_of(0) == 0);
  CHECK(guard_of(1) == 1);
  CHECK(guard_of(2) == 2);
  CHECK(guard_of(3) == -1);  // after the last tag/log-only rule: never skipped

  // The loop the runtime runs: b and c tag and log, d decides.
  ir::ProgramState state(p);
  DecisionState& s = state.for_query(1);
  s.response = {.rcode = 0, .answers = 0};
  auto seq = testing::run_response_rules(
      p, [&](const QueryView& v, DecisionState& st) { return interp::interpret(p, v, st); },
      query("a.example."), s);
  REQUIRE(seq.size() == 3);
  CHECK(seq[0].rule == 1);
  CHECK(seq[0].action == ActionKind::kAllow);
  CHECK(seq[1].rule == 2);
  CHECK(seq[1].modifiers == modifier_bits::kLog);
  CHECK(seq[2].rule == 3);
  CHECK(seq[2].action == ActionKind::kDrop);
  CHECK(s.tags == p.rules[1].action.tag_bits);

  // Resumed after c, b and c are skipped although they hold.
  s.first_rule = 3;
  CHECK(interp::interpret(p, query("a.example."), s).rule == 3);
  s.first_rule = 2;
  CHECK(interp::interpret(p, query("a.example."), s).rule == 2);
}

TEST_CASE("lowering responses: a policy without response rules gives an empty program",
          "[ir][responses]") {
  auto p = responses("");
  CHECK(p.rules.empty());
  CHECK(p.responses);
  ir::ProgramState state(p);
  CHECK(interp::interpret(p, query("a.example."), state.for_query(1)) ==
        Verdict{0, ActionKind::kAllow, 0, 0});
}
