#include "dnspc/interp/interpreter.h"

namespace dnspc::interp {

namespace {

bool eval_node(const ir::Program& p, uint32_t index, uint32_t rule, const QueryView& q, DecisionState& s,
               Trace* trace) {
  const ir::Node& n = p.nodes[index];
  switch (n.op) {
    case ir::Node::Op::kTest: {
      bool v = eval_test(p, p.tests[n.test], q, s);
      if (trace) trace->steps.push_back({rule, n.test, v});
      return v;
    }
    case ir::Node::Op::kAnd:
      for (uint32_t c : n.children) {
        if (!eval_node(p, c, rule, q, s, trace)) return false;
      }
      return true;
    case ir::Node::Op::kOr:
      for (uint32_t c : n.children) {
        if (eval_node(p, c, rule, q, s, trace)) return true;
      }
      return false;
    case ir::Node::Op::kNot:
      return !eval_node(p, n.children[0], rule, q, s, trace);
  }
  return false;
}

}  // namespace

Verdict interpret(const ir::Program& p, const QueryView& q, DecisionState& s, Trace* trace) {
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    if (eval_node(p, p.rules[r].root, r, q, s, trace)) return p.verdict_of(r);
  }
  return p.no_match_verdict();
}

}  // namespace dnspc::interp
