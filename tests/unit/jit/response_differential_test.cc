// Response rules: native code and the optimised evaluator must give the
// reference interpreter's verdicts on every backend answer. Random policies
// (response_policy.h: response facts and query tests mixed, tags set and
// read across rules, rules without a terminal action), each answer run
// through the loop the runtime runs (tests/support/response_loop.h), so the
// whole sequence of verdicts and the tags it leaves must agree, and the
// random state at the end. A fixed seed always runs, and a random one
// printed on failure. DNSPC_DIFF_POLICIES=N runs N policies per seed.
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
#include "response_loop.h"
#include "response_policy.h"

using namespace dnspc;

namespace {

unsigned policies_per_seed() {
  if (const char* n = std::getenv("DNSPC_DIFF_POLICIES"))
    return static_cast<unsigned>(std::atoi(n));
  return 100;
}

constexpr int kAnswersPerPolicy = 200;

struct Totals {
  size_t policies = 0, answers = 0;
  size_t resumed = 0;  // answers where a tag/log-only rule matched and evaluation went on
  size_t decided = 0;  // answers a terminal response rule decided
  size_t passed = 0;   // answers no terminal rule decided
};

std::string describe(const ir::Program& p, const std::vector<Verdict>& seq) {
  std::string out;
  for (const Verdict& v : seq) {
    out += fmt::format("{}{} ({})", out.empty() ? "" : ", ",
                       v.rule < p.rules.size() ? p.rules[v.rule].name : "none",
                       action_kind_name(v.action));
  }
  return out;
}

void check_policy(const std::string& text, uint64_t seed, unsigned index,
                  testing::ResponsePolicy& gen, Totals& totals) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("random.dp", text, diags, options);
  INFO("seed " << seed << " policy " << index << "\n" << text << "\n" << diag::render_text(diags));
  REQUIRE(loaded.model);
  auto compiled = pipeline::compile_model(std::move(*loaded.model));
  const ir::Program& reference = compiled.response_reference;
  REQUIRE(reference.responses);
  REQUIRE_FALSE(reference.rules.empty());
  auto optimized =
      std::make_shared<const opt::OptimizedPolicy>(std::move(compiled.response_optimized));
  std::string error;
  std::unique_ptr<jit::NativePolicy> native = testing::test_engine().compile(optimized, error);
  INFO(error);
  REQUIRE(native);

  ir::ProgramState ref_state(reference), opt_state(optimized->program),
      nat_state(optimized->program);
  nat_state.reserve_scratch(native->scratch_words());
  auto prepare = [](ir::ProgramState& s, const testing::ResponseCase& c) -> DecisionState& {
    DecisionState& d = s.for_query(c.query.now_ns);
    d.tags = c.query_tags;
    d.response = c.facts;
    return d;
  };
  for (int k = 0; k < kAnswersPerPolicy; ++k) {
    testing::ResponseCase c = gen.next();
    QueryView view;
    view.source = c.query.source;
    view.destination = c.query.destination;
    REQUIRE(parse_query(c.query.packet.data(), c.query.packet.size(), c.query.transport, view) ==
            ParseError::kOk);
    DecisionState& rs = prepare(ref_state, c);
    DecisionState& os = prepare(opt_state, c);
    DecisionState& ns = prepare(nat_state, c);
    auto want = testing::run_response_rules(
        reference,
        [&](const QueryView& v, DecisionState& s) { return interp::interpret(reference, v, s); },
        view, rs);
    auto opt = testing::run_response_rules(
        reference,
        [&](const QueryView& v, DecisionState& s) { return opt::evaluate(*optimized, v, s); }, view,
        os);
    auto got = testing::run_response_rules(
        reference, [&](const QueryView& v, DecisionState& s) { return native->decide(v, s); }, view,
        ns);
    if (want != opt || want != got || rs.tags != os.tags || rs.tags != ns.tags) {
      FAIL(
          fmt::format("answer {}: {}\ninterpreter: {} (tags {:#x})\noptimised: {} (tags {:#x})\n"
                      "native: {} (tags {:#x})",
                      k, c.query.describe, describe(reference, want), rs.tags,
                      describe(reference, opt), os.tags, describe(reference, got), ns.tags));
    }
    ++totals.answers;
    if (want.size() > 1) ++totals.resumed;
    if (want.back().action == ActionKind::kAllow) {
      ++totals.passed;
    } else {
      ++totals.decided;
    }
  }
  REQUIRE(ref_state.snapshot() == opt_state.snapshot());
  REQUIRE(ref_state.snapshot() == nat_state.snapshot());
  ++totals.policies;
}

void run_seed(uint64_t seed, Totals& totals) {
  testing::ResponsePolicy gen(seed);
  for (unsigned i = 0; i < policies_per_seed(); ++i) {
    std::string text = gen.policy(i % 3 == 0 ? 20 : 6, i % 4 == 0 ? 30 : 8);
    check_policy(text, seed, i, gen, totals);
  }
}

void report(uint64_t seed, const Totals& totals) {
  WARN(fmt::format(
      "seed {}: {} policies, {} answers without a difference ({} resumed after a tag/log-only "
      "rule, {} decided by a terminal rule, {} passed)",
      seed, totals.policies, totals.answers, totals.resumed, totals.decided, totals.passed));
}

}  // namespace

TEST_CASE("response rules: native and optimised verdicts equal the interpreter's (fixed seed)",
          "[jit][differential][responses]") {
  Totals totals;
  run_seed(20261125, totals);
  CHECK(totals.policies == policies_per_seed());
  CHECK(totals.answers == totals.policies * kAnswersPerPolicy);
  // The generator reaches every outcome, so the agreement above means something.
  CHECK(totals.resumed > 0);
  CHECK(totals.decided > 0);
  CHECK(totals.passed > 0);
  report(20261125, totals);
}

TEST_CASE("response rules: native and optimised verdicts equal the interpreter's (random seed)",
          "[jit][differential][responses]") {
  const uint64_t seed = std::random_device{}();
  INFO("random seed " << seed << " (rerun: it is printed here on failure)");
  Totals totals;
  run_seed(seed, totals);
  CHECK(totals.policies == policies_per_seed());
  report(seed, totals);
}
