// The reference interpreter: walks the decision program exactly as lowered,
// rule after rule, each test computed the plain way. It may be slow; it must
// be obviously right: it is the oracle for the optimised evaluator and for
// the native code, and it is what `dnspc explain` traces.
#pragma once

#include <vector>

#include "dnspc/decision_state.h"
#include "dnspc/ir/program.h"
#include "dnspc/query_view.h"
#include "dnspc/verdict.h"

namespace dnspc::interp {

struct TraceStep {
  uint32_t rule;
  uint32_t test;
  bool value;
};

// What was evaluated for one query, in order.
struct Trace {
  std::vector<TraceStep> steps;
};

Verdict interpret(const ir::Program& program, const QueryView& query, DecisionState& state,
                  Trace* trace = nullptr);

// One test's value, the plain way. Stateful tests act on `state` (a QPS test
// takes a token, a probability test draws a number, a Lua test calls the
// state's Lua runtime; without one it is false).
bool eval_test(const ir::Program& program, const ir::Test& test, const QueryView& query,
               DecisionState& state);

}  // namespace dnspc::interp
