// The optimised structure must give the reference interpreter's verdict on
// every query: random policies, queries built from their own names,
// prefixes and regex strings, virtual time, and the bucket state compared at
// the end. A fixed seed always runs; a random one too, printed on failure.
// With Lua actions (with_lua_actions), every one fails: the decision is
// resumed past it with DecisionState::first_rule, as the runtime does.
// DNSPC_DIFF_POLICIES=N runs N policies per seed (the long run).
#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <cstdlib>
#include <random>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/opt/index.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"
#include "random_policy.h"

using namespace dnspc;

namespace {

unsigned policies_per_seed() {
  if (const char* n = std::getenv("DNSPC_DIFF_POLICIES")) return static_cast<unsigned>(std::atoi(n));
  return 150;
}

struct Totals {
  size_t policies = 0, queries = 0;
  size_t resumed = 0;  // decisions resumed past a Lua action
};

void run_seed(uint64_t seed, Totals& totals, bool lua = false) {
  testing::RandomPolicy gen(seed);
  for (unsigned i = 0; i < policies_per_seed(); ++i) {
    std::string text = gen.policy(i % 3 == 0 ? 40 : 12);
    if (lua) text = testing::with_lua_actions(text, seed + i);
    diag::SourceManager sources;
    diag::Diagnostics diags(sources);
    frontend::LoadOptions options;
    options.check_lua = false;
    auto loaded = frontend::load_policy_text("random.dp", text, diags, options);
    INFO("seed " << seed << " policy " << i << "\n" << text << "\n" << diag::render_text(diags));
    REQUIRE(loaded.model);
    auto compiled = pipeline::compile_model(std::move(*loaded.model));
    ir::ProgramState ref_state(compiled.reference), opt_state(compiled.optimized.program);
    for (int k = 0; k < 200; ++k) {
      testing::RandomQuery rq = gen.query();
      QueryView view;
      view.source = rq.source;
      view.destination = rq.destination;
      REQUIRE(parse_query(rq.packet.data(), rq.packet.size(), rq.transport, view) == ParseError::kOk);
      DecisionState& ref = ref_state.for_query(rq.now_ns);
      DecisionState& optimised = opt_state.for_query(rq.now_ns);
      Verdict want = interp::interpret(compiled.reference, view, ref);
      Verdict got = opt::evaluate(compiled.optimized, view, optimised);
      // The Lua action fell back: the rule counts as not matched, go on.
      while (want == got && want.action == ActionKind::kLua) {
        ref.first_rule = optimised.first_rule = want.rule + 1;
        want = interp::interpret(compiled.reference, view, ref);
        got = opt::evaluate(compiled.optimized, view, optimised);
        ++totals.resumed;
      }
      if (!(want == got)) {
        FAIL(fmt::format("query {}: {}\ninterpreter: rule {} ({}), optimised: rule {} ({})", k, rq.describe,
                         compiled.reference.rules[want.rule].name, action_kind_name(want.action),
                         got.rule < compiled.reference.rules.size() ? compiled.reference.rules[got.rule].name : "?",
                         action_kind_name(got.action)));
      }
      ++totals.queries;
    }
    REQUIRE(ref_state.snapshot() == opt_state.snapshot());
    ++totals.policies;
  }
}

}  // namespace

TEST_CASE("optimised verdicts equal the interpreter's (fixed seed)", "[opt][differential]") {
  Totals totals;
  run_seed(20261125, totals);
  CHECK(totals.queries == totals.policies * 200);
  WARN(fmt::format("{} policies, {} queries without a difference", totals.policies, totals.queries));
}

TEST_CASE("optimised verdicts equal the interpreter's (random seed)", "[opt][differential]") {
  uint64_t seed = std::random_device{}();
  INFO("random seed " << seed << " (rerun: it is printed here on failure)");
  Totals totals;
  run_seed(seed, totals);
  CHECK(totals.policies == policies_per_seed());
}

TEST_CASE("optimised verdicts equal the interpreter's when Lua actions fall back",
          "[opt][differential][lua]") {
  Totals totals;
  run_seed(20261125, totals, true);
  CHECK(totals.policies == policies_per_seed());
  CHECK(totals.resumed > 0);
  WARN(fmt::format(
      "{} policies, {} queries without a difference, {} decisions resumed past a Lua action",
      totals.policies, totals.queries, totals.resumed));
}
