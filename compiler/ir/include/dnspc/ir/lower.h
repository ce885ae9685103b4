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
Program lower(const sema::Model& model);

}  // namespace dnspc::ir
