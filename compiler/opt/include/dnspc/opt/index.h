// The optimised decision structure. Lookups merged over every rule (one name
// probe over the qname's label suffixes, one prefix walk per address, one
// qtype lookup, one run per union of regexes) report which tests hold; each
// rule is filed under one test of each of its conjunctions (its "anchor"),
// so the rules that can match are found from the true tests, and only those
// are evaluated, in rule order. The per-packet cost follows the number of
// rules that could match, not the number of rules.
//
// Why it is exact: a rule whose every conjunction (disjunctive normal form)
// holds a false anchor is false; and since stateful tests run after the
// stateless ones in each and/or, the reference interpreter would not have
// reached any of its stateful tests either (docs/architecture.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnspc/decision_state.h"
#include "dnspc/dfa_table.h"
#include "dnspc/ir/program.h"
#include "dnspc/name_index.h"
#include "dnspc/prefix_index.h"
#include "dnspc/qtype_index.h"
#include "dnspc/query_view.h"
#include "dnspc/verdict.h"

namespace dnspc::opt {

// How the evaluator learns a test's value.
enum class TestSource : uint8_t {
  kDirect,      // computed on its own (header bits, numbers, stateful tests)
  kNames,       // reported by the name probe
  kSources,     // reported by the source prefix walk
  kDestinations,
  kQtypes,      // reported by the qtype lookup
  kRegexUnion,  // reported by the run of its regex union
  kRegexLazy,   // its own DFA, run when a rule needs it; prefiltered by its DNS suffix
};

// Name-probe ids at or above this are regex prefilter hits: test id + base.
constexpr uint32_t kRegexHitBase = 0x80000000u;

struct RegexUnion {
  DfaTable dfa;
  std::vector<uint32_t> tests;  // the union's pattern id -> test id
};

struct IndexStats {
  size_t rules = 0, anchored_rules = 0, always_rules = 0;
  size_t name_keys = 0, prefixes = 0, qtype_tests = 0;
  size_t regexes = 0, regexes_prefiltered = 0, regex_unions = 0, regex_union_states = 0;
};

struct DecisionIndex {
  NameIndex names;
  PrefixIndex sources, destinations;
  QtypeIndex qtypes;
  std::vector<RegexUnion> regex_unions;
  std::vector<TestSource> test_source;  // per test
  // Rules filed under each test (CSR: anchor_begin has tests + 1 entries).
  std::vector<uint32_t> anchor_begin;
  std::vector<uint32_t> anchor_rules;
  // Rules with a conjunction that no lookup can anchor: always candidates.
  std::vector<uint32_t> always_rules;
  IndexStats stats;
};

struct IndexOptions {
  unsigned regex_union_budget = 10'000;  // states per regex union
  size_t max_conjunctions = 64;          // per rule; past it the rule is always a candidate
};

DecisionIndex build_index(const ir::Program& program, const IndexOptions& options = {});

// A program after every optimiser pass, with its index.
struct OptimizedPolicy {
  ir::Program program;
  DecisionIndex index;
};

// Runs dedupe_tests, order_by_cost and build_index.
OptimizedPolicy optimize(ir::Program program, const IndexOptions& options = {});

// The optimised evaluator: the same verdict as interp::interpret on the
// unoptimised program, for every query and state.
Verdict evaluate(const OptimizedPolicy& policy, const QueryView& query, DecisionState& state);

}  // namespace dnspc::opt
