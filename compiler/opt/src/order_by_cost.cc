#include <algorithm>

#include "dnspc/opt/passes.h"

namespace dnspc::opt {

unsigned test_cost(const ir::Program& p, const ir::Test& t) {
  using ir::TestKind;
  switch (t.kind) {
    case TestKind::kTrue:
    case TestKind::kFalse:
      return 0;
    case TestKind::kHeaderBit:
    case TestKind::kTransport:
    case TestKind::kEdns:
    case TestKind::kEdnsDo:
    case TestKind::kQclass:
    case TestKind::kOpcode:
    case TestKind::kTagged:
    case TestKind::kResponseRcode:
    case TestKind::kFromRule:
      return 1;
    case TestKind::kLabelCount:
    case TestKind::kNameLength:
    case TestKind::kEdnsVersion:
    case TestKind::kEdnsPayload:
    case TestKind::kSize:
    case TestKind::kAnswerCount:
    case TestKind::kLatency:
    case TestKind::kResponseSize:
      return 2;
    case TestKind::kQtype:
    case TestKind::kEdnsOption:
      return 3;
    case TestKind::kName:
    case TestKind::kSource:
    case TestKind::kDestination:
      return 10;  // answered by the merged lookups, which run once per packet
    case TestKind::kRegex:
      return 50 + static_cast<unsigned>(std::min<size_t>(p.regexes[t.table].dfa.state_count, 1000) / 20);
    case TestKind::kQps:
    case TestKind::kProbability:
    case TestKind::kLua:
      return 1000;  // never moved: stateful
  }
  return 100;
}

namespace {

struct NodeInfo {
  unsigned cost = 0;
  bool stateful = false;
};

NodeInfo visit(ir::Program& p, uint32_t index) {
  ir::Node& n = p.nodes[index];
  if (n.op == ir::Node::Op::kTest) {
    const ir::Test& t = p.tests[n.test];
    return {test_cost(p, t), ir::is_stateful(t.kind)};
  }
  std::vector<std::pair<uint32_t, NodeInfo>> kids;
  NodeInfo total;
  for (uint32_t c : n.children) {
    NodeInfo info = visit(p, c);
    kids.push_back({c, info});
    total.cost += info.cost;
    total.stateful |= info.stateful;
  }
  if (n.op == ir::Node::Op::kAnd || n.op == ir::Node::Op::kOr) {
    // Lowering put stateless children first; sort only that prefix.
    auto first_stateful = std::find_if(kids.begin(), kids.end(), [](auto& k) { return k.second.stateful; });
    std::stable_sort(kids.begin(), first_stateful,
                     [](auto& a, auto& b) { return a.second.cost < b.second.cost; });
    for (size_t i = 0; i < kids.size(); ++i) p.nodes[index].children[i] = kids[i].first;
  }
  return total;
}

}  // namespace

void order_by_cost(ir::Program& p) {
  for (ir::Rule& r : p.rules) visit(p, r.root);
}

}  // namespace dnspc::opt
