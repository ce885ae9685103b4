// Response rules run the way runtime/include/dnspc/runtime/policy_image.h
// tells the runtime to run them, over any evaluator: from rule 0; a rule
// without a terminal action (allow) adds its tags and evaluation resumes
// after it; the first other verdict, or no rule, ends it. Tests run the
// interpreter, the optimised evaluator and native code through this one
// loop, so they compare exactly what the runtime will do.
#pragma once

#include <vector>

#include "dnspc/decision_state.h"
#include "dnspc/ir/program.h"
#include "dnspc/query_view.h"
#include "dnspc/verdict.h"

namespace dnspc::testing {

// Every verdict in order (the last one decides). `state.tags` holds the
// query's tags on entry and every applied tag on return; state.response
// holds the answer's facts (state.first_rule is set here).
template <typename Decide>
std::vector<Verdict> run_response_rules(const ir::Program& responses, Decide&& decide,
                                        const QueryView& view, DecisionState& state) {
  std::vector<Verdict> out;
  state.first_rule = 0;
  // Each call moves past a rule, so rules + 1 calls end it; a broken
  // evaluator that does not move on stops here with a long sequence.
  while (out.size() <= responses.rules.size()) {
    const Verdict v = decide(view, state);
    out.push_back(v);
    if (v.rule >= responses.rules.size()) return out;
    state.tags |= responses.rules[v.rule].action.tag_bits;
    if (v.action != ActionKind::kAllow) return out;
    state.first_rule = v.rule + 1;
  }
  return out;
}

}  // namespace dnspc::testing
