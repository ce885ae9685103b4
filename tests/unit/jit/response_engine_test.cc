// Response rules in native code: each response fact read from
// DecisionState::response at its boundaries, truncate over UDP only, the
// `from rule` resume, and allow when no rule holds. Expected verdicts are
// written out here; the differential test covers the rest.
#include <catch2/catch.hpp>

#include "dnspc/ir/state.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"
#include "jit_test_support.h"

using namespace dnspc;

namespace {

struct Compiled {
  std::shared_ptr<const opt::OptimizedPolicy> responses;
  std::unique_ptr<jit::NativePolicy> native;
};

Compiled compile(const std::string& response_rules) {
  const std::string text =
      "pool p { server 192.0.2.1; }\nrule default: true => pool p;\n" + response_rules;
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("test.dp", text, diags, options);
  INFO(diag::render_text(diags));
  REQUIRE(loaded.model);
  auto compiled = pipeline::compile_model(std::move(*loaded.model));
  Compiled out;
  out.responses =
      std::make_shared<const opt::OptimizedPolicy>(std::move(compiled.response_optimized));
  std::string error;
  out.native = testing::test_engine().compile(out.responses, error);
  INFO(error);
  REQUIRE(out.native);
  return out;
}

QueryView view_of(Transport transport = Transport::kUdp) {
  static const std::vector<uint8_t> packet = {0,   1,   1,   0,   0,   1, 0,   0,   0,
                                              0,   0,   0,   1,   'a', 7, 'e', 'x', 'a',
                                              'm', 'p', 'l', 'e', 0,   0, 1,   0,   1};
  QueryView v;
  REQUIRE(parse_query(packet.data(), packet.size(), transport, v) == ParseError::kOk);
  v.source = *NetAddress::parse("127.0.0.1");
  v.destination = *NetAddress::parse("127.0.0.1", 53);
  return v;
}

// The native verdict's rule on an answer with these facts.
uint32_t rule_on(const Compiled& c, ResponseFacts facts, Transport transport = Transport::kUdp) {
  ir::ProgramState state(c.responses->program);
  state.reserve_scratch(c.native->scratch_words());
  DecisionState& s = state.for_query(1);
  s.response = facts;
  return c.native->decide(view_of(transport), s).rule;
}

}  // namespace

TEST_CASE("native response rules read each response fact", "[jit][responses]") {
  const Compiled c = compile(
      "response rule servfail: rcode == SERVFAIL => drop;\n"
      "response rule empty: answers == 0 => rcode NXDOMAIN;\n"
      "response rule slow: latency >= 250ms => truncate;\n"
      "response rule big: response.size > 1232 => drop;\n");
  const ResponseFacts plain{.latency_us = 1000, .size = 100, .rcode = 0, .answers = 1};
  CHECK(rule_on(c, plain) == 4);  // none: allow

  ResponseFacts f = plain;
  f.rcode = 2;
  CHECK(rule_on(c, f) == 0);
  f.rcode = 2 | 16;  // an extended rcode is not SERVFAIL
  CHECK(rule_on(c, f) == 4);

  f = plain;
  f.answers = 0;
  CHECK(rule_on(c, f) == 1);

  f = plain;
  f.latency_us = 249'999;
  CHECK(rule_on(c, f) == 4);
  f.latency_us = 250'000;
  CHECK(rule_on(c, f) == 2);
  CHECK(rule_on(c, f, Transport::kTcp) == 4);  // truncate holds over UDP only
  f.latency_us = 10'000'000'000;
  CHECK(rule_on(c, f) == 2);

  f = plain;
  f.size = 1232;
  CHECK(rule_on(c, f) == 4);
  f.size = 1233;
  CHECK(rule_on(c, f) == 3);
  f.size = 70'000;  // wider than 16 bits: read whole
  CHECK(rule_on(c, f) == 3);

  ir::ProgramState state(c.responses->program);
  state.reserve_scratch(c.native->scratch_words());
  DecisionState& s = state.for_query(1);
  s.response = plain;
  const Verdict none = c.native->decide(view_of(), s);
  CHECK(none.action == ActionKind::kAllow);
  CHECK(none == c.responses->program.no_match_verdict());
}

TEST_CASE("native response rules resume after a tag/log-only rule", "[jit][responses]") {
  const Compiled c = compile(
      "response rule note: answers == 0 => tag \"empty\" log;\n"
      "response rule again: answers == 0 => log;\n"
      "response rule hide: answers == 0 and tagged \"empty\" => rcode NXDOMAIN;\n");
  const ResponseFacts empty{.latency_us = 1000, .size = 40, .rcode = 0, .answers = 0};
  ir::ProgramState state(c.responses->program);
  state.reserve_scratch(c.native->scratch_words());
  DecisionState& s = state.for_query(1);
  s.response = empty;
  Verdict v = c.native->decide(view_of(), s);
  CHECK(v.rule == 0);
  CHECK(v.action == ActionKind::kAllow);
  CHECK(v.modifiers == (modifier_bits::kTag | modifier_bits::kLog));
  s.tags |= c.responses->program.rules[0].action.tag_bits;
  s.first_rule = 1;
  v = c.native->decide(view_of(), s);
  CHECK(v.rule == 1);
  s.first_rule = 2;
  v = c.native->decide(view_of(), s);
  CHECK(v.rule == 2);
  CHECK(v.action == ActionKind::kRcode);
  CHECK(v.argument == 3);
  s.tags = 0;  // without the tag the first rule set, hide does not hold
  CHECK(c.native->decide(view_of(), s).rule == 3);
}
