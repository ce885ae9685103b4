#include "dnf.h"

namespace dnspc::opt {

std::optional<std::vector<Conjunction>> to_dnf(const ir::Program& p, uint32_t index, bool neg,
                                               size_t max_terms) {
  const ir::Node& n = p.nodes[index];
  using Op = ir::Node::Op;
  if (n.op == Op::kNot) return to_dnf(p, n.children[0], !neg, max_terms);
  if (n.op == Op::kTest) {
    const ir::Test& t = p.tests[n.test];
    bool truth = t.kind == ir::TestKind::kTrue;
    if (t.kind == ir::TestKind::kTrue || t.kind == ir::TestKind::kFalse) {
      if (truth != neg) return std::vector<Conjunction>{Conjunction{}};
      return std::vector<Conjunction>{};
    }
    return std::vector<Conjunction>{Conjunction{Literal{n.test, neg}}};
  }
  bool conjunction = (n.op == Op::kAnd) != neg;
  if (!conjunction) {
    std::vector<Conjunction> out;
    for (uint32_t c : n.children) {
      auto d = to_dnf(p, c, neg, max_terms);
      if (!d) return std::nullopt;
      out.insert(out.end(), d->begin(), d->end());
      if (out.size() > max_terms) return std::nullopt;
    }
    return out;
  }
  std::vector<Conjunction> out{Conjunction{}};
  for (uint32_t c : n.children) {
    auto d = to_dnf(p, c, neg, max_terms);
    if (!d) return std::nullopt;
    if (d->size() == 1) {
      // One term: extend each term in place; copying them for every child
      // made a flat chain of n tests cost n^2.
      for (Conjunction& a : out) a.insert(a.end(), d->front().begin(), d->front().end());
      continue;
    }
    std::vector<Conjunction> next;
    for (const Conjunction& a : out) {
      for (const Conjunction& b : *d) {
        Conjunction both = a;
        both.insert(both.end(), b.begin(), b.end());
        next.push_back(std::move(both));
        if (next.size() > max_terms) return std::nullopt;
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace dnspc::opt
