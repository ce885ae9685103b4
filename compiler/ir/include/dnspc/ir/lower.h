// Lowering: the checked model (sema) -> the decision program. Pure data
// transformation; the only errors possible here were already reported by
// sema, so lowering a model without errors always succeeds.
#pragma once

#include "dnspc/ir/program.h"
#include "dnspc/sema/model.h"

namespace dnspc::ir {

// Semantics fixed here, shared by every evaluator:
// - A truncate rule decides only over UDP: its condition becomes
//   `udp and (condition)`, so over TCP it is false and charges nothing.
// - Nested ands (and ors) are flattened: `a and (b and c)` is one and.
// - In every and/or, children without side effects are evaluated first (in
//   the order written), then those holding stateful tests (qps, probability,
//   lua) in the order written; so a QPS bound is charged, and a random number
//   drawn, only when the rest of the and/or could not already decide. In
//   particular a stateless direct child of a rule's top-level and is
//   evaluated before any stateful test of the rule.
// - Identical literal sets are not merged here (see opt::dedupe_tests).
// - A Lua action that fails (an error, its budget, a result it cannot use)
//   counts as not matched and evaluation goes on: every rule at or before
//   the last rule whose action is `lua` gets `from rule N and (...)` (N its
//   index; outside a truncate rule's `udp and`). When rule N's Lua action
//   fails, the caller decides again with DecisionState::first_rule = N + 1,
//   and no rule up to N is evaluated (or charged) again. Rules after the
//   last Lua action are never skipped and need no guard, so a policy
//   without Lua actions has no guard at all. When the last rule's Lua
//   action fails, no rule holds: Program::no_match_verdict().
Program lower(const sema::Model& model);

// The response rules as a second program (Program::responses set), read by
// the same evaluators with the backend's answer in DecisionState::response.
// Query-side conditions lower exactly as above (the same tests and tables,
// over the client's query). On top of that:
// - Response facts are tests of their own: rcode, answers, latency (whole
//   milliseconds), response.size.
// - A truncate rule's condition becomes `udp and (...)`, as for queries.
// - A rule without a terminal action gets `allow`, and every rule at or
//   before the last such rule gets `from rule N and (...)` (N its index):
//   the caller, having applied a non-terminal rule's tags and log, resumes
//   at the next rule by setting DecisionState::first_rule. Rules after the
//   last such rule are never skipped, so they need no guard.
// - No rule holding gives allow (Program::no_match_verdict).
Program lower_responses(const sema::Model& model);

}  // namespace dnspc::ir
