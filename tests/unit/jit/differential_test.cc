// Native code must give the reference interpreter's verdict on every query:
// random policies (tests/support/random_policy.h, and the wider generator
// of wide_policy.h: every test kind, labels holding dots, large qtypes, EDNS
// options), queries built from each policy's own vocabulary, virtual time,
// verdict sequences, and the bucket and random state compared at the end.
// A fixed seed always runs, and a random one printed on failure. Policies
// with Lua actions (with_lua_actions) run as if every Lua action failed:
// each is resumed past with DecisionState::first_rule, as the runtime does.
// DNSPC_DIFF_POLICIES=N runs N policies per seed and generator (the long run).
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <random>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/jit/native.h"
#include "dnspc/opt/index.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"
#include "jit_test_support.h"
#include "random_policy.h"
#include "wide_policy.h"

using namespace dnspc;

namespace {

unsigned policies_per_seed() {
  if (const char* n = std::getenv("DNSPC_DIFF_POLICIES"))
    return static_cast<unsigned>(std::atoi(n));
  return 100;
}

constexpr int kQueriesPerPolicy = 200;

struct Totals {
  size_t policies = 0, queries = 0;
  size_t decided_before_last = 0;  // queries some rule other than the catch-all decided
  size_t dot_in_label = 0;         // queries whose labels hold a '.' byte
  size_t resumed = 0;              // decisions resumed past a Lua action
};

struct Query {
  std::vector<uint8_t> packet;
  NetAddress source, destination;
  Transport transport = Transport::kUdp;
  uint64_t now_ns = 0;
  std::string describe;
};

// Compiles `text` three ways and runs the same queries through the
// interpreter (on the program as lowered) and the native code.
template <typename NextQuery>
void check_policy(const std::string& text, uint64_t seed, unsigned index, NextQuery&& next_query,
                  Totals& totals) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("random.dp", text, diags, options);
  INFO("seed " << seed << " policy " << index << "\n" << text << "\n" << diag::render_text(diags));
  REQUIRE(loaded.model);
  auto compiled = pipeline::compile_model(std::move(*loaded.model));
  auto optimized = std::make_shared<const opt::OptimizedPolicy>(std::move(compiled.optimized));
  std::string error;
  std::unique_ptr<jit::NativePolicy> native = testing::test_engine().compile(optimized, error);
  REQUIRE(native);
  ir::ProgramState ref_state(compiled.reference), nat_state(optimized->program);
  nat_state.reserve_scratch(native->scratch_words());
  for (int k = 0; k < kQueriesPerPolicy; ++k) {
    Query q = next_query();
    QueryView view;
    view.source = q.source;
    view.destination = q.destination;
    REQUIRE(parse_query(q.packet.data(), q.packet.size(), q.transport, view) == ParseError::kOk);
    DecisionState& ref = ref_state.for_query(q.now_ns);
    DecisionState& nat = nat_state.for_query(q.now_ns);
    Verdict want = interp::interpret(compiled.reference, view, ref);
    Verdict got = native->decide(view, nat);
    // The Lua action fell back: the rule counts as not matched, go on.
    while (want == got && want.action == ActionKind::kLua) {
      ref.first_rule = nat.first_rule = want.rule + 1;
      want = interp::interpret(compiled.reference, view, ref);
      got = native->decide(view, nat);
      ++totals.resumed;
    }
    if (!(want == got)) {
      const auto& rules = compiled.reference.rules;
      FAIL(fmt::format(
          "query {}: {}\ninterpreter: rule {} ({}), native: rule {} ({})", k, q.describe,
          want.rule < rules.size() ? rules[want.rule].name : "none", action_kind_name(want.action),
          got.rule < rules.size() ? rules[got.rule].name : "none", action_kind_name(got.action)));
    }
    ++totals.queries;
    if (want.rule + 1 < compiled.reference.rules.size()) ++totals.decided_before_last;
    if (view.dot_in_label) ++totals.dot_in_label;
  }
  REQUIRE(ref_state.snapshot() == nat_state.snapshot());
  ++totals.policies;
}

void run_random_policies(uint64_t seed, Totals& totals, bool lua = false) {
  testing::RandomPolicy gen(seed);
  for (unsigned i = 0; i < policies_per_seed(); ++i) {
    std::string text = gen.policy(i % 3 == 0 ? 40 : 12);
    if (lua) text = testing::with_lua_actions(text, seed + i);
    check_policy(
        text, seed, i,
        [&] {
          testing::RandomQuery rq = gen.query();
          return Query{std::move(rq.packet), rq.source, rq.destination,
                       rq.transport,         rq.now_ns, std::move(rq.describe)};
        },
        totals);
  }
}

void run_wide_policies(uint64_t seed, Totals& totals, bool lua = false) {
  testing::WidePolicy gen(seed);
  for (unsigned i = 0; i < policies_per_seed(); ++i) {
    std::string text = gen.policy(i % 3 == 0 ? 40 : 12);
    if (lua) text = testing::with_lua_actions(text, seed + i);
    check_policy(
        text, seed, i,
        [&] {
          testing::WideQuery wq = gen.query();
          return Query{std::move(wq.packet), wq.source, wq.destination,
                       wq.transport,         wq.now_ns, std::move(wq.describe)};
        },
        totals);
  }
}

}  // namespace

TEST_CASE("native verdicts equal the interpreter's (fixed seed)", "[jit][differential]") {
  Totals totals;
  run_random_policies(20261125, totals);
  run_wide_policies(20261125, totals);
  CHECK(totals.queries == totals.policies * kQueriesPerPolicy);
  CHECK(totals.policies == 2 * policies_per_seed());
  WARN(fmt::format(
      "{} policies, {} (policy, query) pairs without a difference ({} decided before the "
      "catch-all, "
      "{} with dots in labels)",
      totals.policies, totals.queries, totals.decided_before_last, totals.dot_in_label));
}

TEST_CASE("native verdicts equal the interpreter's (random seed)", "[jit][differential]") {
  const uint64_t seed = std::random_device{}();
  INFO("random seed " << seed << " (rerun: it is printed here on failure)");
  Totals totals;
  run_random_policies(seed, totals);
  run_wide_policies(seed, totals);
  CHECK(totals.policies == 2 * policies_per_seed());
  WARN(fmt::format(
      "seed {}: {} policies, {} (policy, query) pairs without a difference ({} decided before the "
      "catch-all, {} with dots in labels)",
      seed, totals.policies, totals.queries, totals.decided_before_last, totals.dot_in_label));
}

TEST_CASE("native verdicts equal the interpreter's when Lua actions fall back",
          "[jit][differential][lua]") {
  Totals totals;
  run_random_policies(20261125, totals, true);
  run_wide_policies(20261125, totals, true);
  CHECK(totals.policies == 2 * policies_per_seed());
  CHECK(totals.resumed > 0);
  WARN(
      fmt::format("{} policies, {} (policy, query) pairs without a difference, {} decisions "
                  "resumed past a Lua action",
                  totals.policies, totals.queries, totals.resumed));
}
