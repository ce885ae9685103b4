// `qname == "a.x." or qname == "b.x." or ...` as one name-set test. A
// generated rule may join thousands of such terms; as separate tests each
// would be a leaf of the rule's shape (docs/jit.md), compiled into one
// function whose optimisation grows faster than its size, and a probe each
// at run time. Their union answers the same question in one lookup.
#include <algorithm>

#include "dnspc/opt/passes.h"

namespace dnspc::opt {

namespace {

bool mergeable(ir::TestKind k) {
  using ir::TestKind;
  return k == TestKind::kName || k == TestKind::kSource || k == TestKind::kDestination || k == TestKind::kQtype;
}

// Appends table `from` to table `into` (of the test kind's table list).
void append_table(ir::Program& p, ir::TestKind kind, uint32_t into, uint32_t from) {
  using ir::TestKind;
  switch (kind) {
    case TestKind::kName: {
      const auto& e = p.name_sets[from].entries;
      auto& out = p.name_sets[into].entries;
      out.insert(out.end(), e.begin(), e.end());
      break;
    }
    case TestKind::kSource:
    case TestKind::kDestination: {
      const auto& e = p.prefix_sets[from].prefixes;
      auto& out = p.prefix_sets[into].prefixes;
      out.insert(out.end(), e.begin(), e.end());
      break;
    }
    case TestKind::kQtype: {
      const auto& e = p.qtype_sets[from].qtypes;
      auto& out = p.qtype_sets[into].qtypes;
      out.insert(out.end(), e.begin(), e.end());
      break;
    }
    default:
      break;
  }
}

// A fresh, empty table of the kind's list; returns its index.
uint32_t new_table(ir::Program& p, ir::TestKind kind) {
  using ir::TestKind;
  switch (kind) {
    case TestKind::kName:
      p.name_sets.emplace_back();
      return static_cast<uint32_t>(p.name_sets.size() - 1);
    case TestKind::kQtype:
      p.qtype_sets.emplace_back();
      return static_cast<uint32_t>(p.qtype_sets.size() - 1);
    default:
      p.prefix_sets.emplace_back();
      return static_cast<uint32_t>(p.prefix_sets.size() - 1);
  }
}

void normalise_qtypes(ir::QtypeSet& s) {
  std::sort(s.qtypes.begin(), s.qtypes.end());
  s.qtypes.erase(std::unique(s.qtypes.begin(), s.qtypes.end()), s.qtypes.end());
}

}  // namespace

size_t merge_set_tests(ir::Program& p) {
  size_t merged = 0;
  for (size_t n = 0; n < p.nodes.size(); ++n) {
    if (p.nodes[n].op != ir::Node::Op::kOr) continue;
    // The first child of each mergeable kind becomes the merged test; the
    // others of that kind are dropped from the or. Every one of them is
    // free of side effects, so where the union is evaluated does not matter.
    constexpr size_t kKinds = 64;
    uint32_t first_child[kKinds];
    uint32_t count[kKinds] = {};
    std::vector<uint32_t>& children = p.nodes[n].children;
    for (uint32_t c : children) {
      const ir::Node& child = p.nodes[c];
      if (child.op != ir::Node::Op::kTest || !mergeable(p.tests[child.test].kind)) continue;
      auto k = static_cast<size_t>(p.tests[child.test].kind) % kKinds;
      if (count[k]++ == 0) first_child[k] = c;
    }
    bool any = false;
    for (size_t k = 0; k < kKinds; ++k) any |= count[k] > 1;
    if (!any) continue;

    uint32_t union_node[kKinds];
    for (size_t k = 0; k < kKinds; ++k) {
      if (count[k] < 2) continue;
      const ir::Test& first = p.tests[p.nodes[first_child[k]].test];
      ir::Test t = first;
      t.table = new_table(p, first.kind);
      p.tests.push_back(t);
      p.nodes.push_back({ir::Node::Op::kTest, static_cast<uint32_t>(p.tests.size() - 1), {}});
      union_node[k] = static_cast<uint32_t>(p.nodes.size() - 1);
    }
    std::vector<uint32_t>& kids = p.nodes[n].children;  // p.nodes may have moved
    std::vector<uint32_t> kept;
    kept.reserve(kids.size());
    for (uint32_t c : kids) {
      const ir::Node& child = p.nodes[c];
      if (child.op == ir::Node::Op::kTest && mergeable(p.tests[child.test].kind)) {
        const ir::Test& t = p.tests[child.test];
        auto k = static_cast<size_t>(t.kind) % kKinds;
        if (count[k] > 1) {
          append_table(p, t.kind, p.tests[p.nodes[union_node[k]].test].table, t.table);
          if (c == first_child[k]) kept.push_back(union_node[k]);
          ++merged;
          continue;
        }
      }
      kept.push_back(c);
    }
    for (size_t k = 0; k < kKinds; ++k) {
      if (count[k] > 1 && p.tests[p.nodes[union_node[k]].test].kind == ir::TestKind::kQtype) {
        normalise_qtypes(p.qtype_sets[p.tests[p.nodes[union_node[k]].test].table]);
      }
    }
    p.nodes[n].children = std::move(kept);
  }
  return merged;
}

}  // namespace dnspc::opt
