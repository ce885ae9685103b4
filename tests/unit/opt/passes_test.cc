#include <catch2/catch.hpp>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/ir/lower.h"
#include "dnspc/opt/index.h"
#include "dnspc/opt/passes.h"

using namespace dnspc;

namespace {

ir::Program lowered(const std::string& text) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  auto r = frontend::load_policy_text("t.dp", text, diags);
  INFO(diag::render_text(diags));
  REQUIRE(r.model);
  return ir::lower(*r.model);
}

const char* kPools = "pool p { server 192.0.2.1; }\n";

}  // namespace

TEST_CASE("lowering: truncate rules gain a udp test ahead of their condition", "[ir]") {
  auto p = lowered(std::string(kPools) + "rule t: rd => truncate;\nrule default: true => pool p;\n");
  const ir::Node& root = p.nodes[p.rules[0].root];
  REQUIRE(root.op == ir::Node::Op::kAnd);
  const ir::Node& first = p.nodes[root.children[0]];
  REQUIRE(first.op == ir::Node::Op::kTest);
  CHECK(p.tests[first.test].kind == ir::TestKind::kTransport);
  CHECK(p.tests[first.test].value == 0);
}

TEST_CASE("lowering: stateful tests come after stateless ones in an and", "[ir]") {
  auto p = lowered(std::string(kPools) +
                   "rule q: qps > 5 and qname suffix \"x.\" and rd => drop;\nrule default: true => pool p;\n");
  std::function<void(uint32_t)> check = [&](uint32_t n) {
    const ir::Node& node = p.nodes[n];
    if (node.op != ir::Node::Op::kAnd) return;
    bool seen_stateful = false;
    for (uint32_t c : node.children) {
      const ir::Node& child = p.nodes[c];
      bool stateful = child.op == ir::Node::Op::kTest && ir::is_stateful(p.tests[child.test].kind);
      if (seen_stateful) CHECK(stateful);
      seen_stateful |= stateful;
      check(c);
    }
  };
  check(p.rules[0].root);
  CHECK(p.limiters.size() == 1);
  CHECK(p.limiters[0].qps == 5);
  CHECK(p.limiters[0].burst == 5);
}

TEST_CASE("dedupe merges identical tests and tables, never QPS bounds", "[opt][dedupe]") {
  auto p = lowered(std::string(kPools) +
                   "rule a: qname suffix \"x.example.\" and qps > 3 => drop;\n"
                   "rule b: qname suffix \"X.Example\" and qps > 3 => refuse;\n"
                   "rule c: src in 10.0.0.0/8 => drop;\n"
                   "rule d: src in { 10.0.0.0/8 } => drop;\n"
                   "rule default: true => pool p;\n");
  size_t names_before = p.name_sets.size();
  auto stats = opt::dedupe_tests(p);
  CHECK(names_before == 2);
  CHECK(p.name_sets.size() == 1);
  CHECK(p.prefix_sets.size() == 1);
  CHECK(stats.tests_after < stats.tests_before);
  size_t qps_tests = 0;
  for (const auto& t : p.tests) qps_tests += t.kind == ir::TestKind::kQps;
  CHECK(qps_tests == 2);  // each rule keeps its own bucket
}

TEST_CASE("merge_set_tests folds the name, address and qtype tests of an or into unions", "[opt][merge]") {
  auto p = lowered(std::string(kPools) +
                   "rule a: qname == \"a.x.\" or rd or qname suffix \"b.x.\" or src in 10.0.0.0/8 or "
                   "qname in { \"c.x.\", \"d.x.\" } or src in 192.0.2.0/24 or qtype == A or qtype == AAAA "
                   "or dst in 10.1.0.0/16 or probability 0.5 => drop;\n"
                   "rule b: qname == \"e.x.\" and qname suffix \"x.\" => drop;\n"
                   "rule default: true => pool p;\n");
  size_t merged = opt::merge_set_tests(p);
  CHECK(merged == 7);  // 3 name tests (a set is one), 2 source, 2 qtype; the lone destination stays
  const ir::Node& root = p.nodes[p.rules[0].root];
  std::vector<ir::TestKind> kinds;
  for (uint32_t c : root.children) {
    REQUIRE(p.nodes[c].op == ir::Node::Op::kTest);
    kinds.push_back(p.tests[p.nodes[c].test].kind);
  }
  using K = ir::TestKind;
  // Each union takes the place of its kind's first test; probability stays last.
  CHECK(kinds == std::vector<K>{K::kName, K::kHeaderBit, K::kSource, K::kQtype, K::kDestination, K::kProbability});
  const ir::Test& names = p.tests[p.nodes[root.children[0]].test];
  CHECK(p.name_sets[names.table].entries.size() == 4);
  const ir::Test& sources = p.tests[p.nodes[root.children[2]].test];
  CHECK(p.prefix_sets[sources.table].prefixes.size() == 2);
  const ir::Test& qtypes = p.tests[p.nodes[root.children[3]].test];
  CHECK(p.qtype_sets[qtypes.table].qtypes == std::vector<uint16_t>{1, 28});
  // An and is an intersection: left alone.
  CHECK(p.nodes[p.rules[1].root].children.size() == 2);
}

TEST_CASE("order_by_cost puts cheap tests first but never moves stateful ones", "[opt][order]") {
  auto p = lowered(std::string(kPools) +
                   "rule a: qname ~ /abc/ and rd and qname suffix \"x.\" and probability 0.5 => drop;\n"
                   "rule default: true => pool p;\n");
  opt::order_by_cost(p);
  const ir::Node& root = p.nodes[p.rules[0].root];
  std::vector<ir::TestKind> kinds;
  for (uint32_t c : root.children) kinds.push_back(p.tests[p.nodes[c].test].kind);
  REQUIRE(kinds.size() == 4);
  CHECK(kinds[0] == ir::TestKind::kHeaderBit);
  CHECK(kinds[1] == ir::TestKind::kName);
  CHECK(kinds[2] == ir::TestKind::kRegex);
  CHECK(kinds[3] == ir::TestKind::kProbability);
}

TEST_CASE("the index files rules under their most selective test", "[opt][index]") {
  auto p = lowered(std::string(kPools) +
                   "rule a: qname suffix \"a.example.\" => drop;\n"
                   "rule b: qtype == TXT and qname suffix \"b.example.\" => drop;\n"
                   "rule c: src in 10.0.0.0/8 or qname == \"c.example.\" => drop;\n"
                   "rule d: rd and edns => drop;\n"
                   "rule e: qname ~ /^[a-z]+\\.e\\.example\\.$/ => drop;\n"
                   "rule f: qname ~ /x[0-9]+/ => drop;\n"
                   "rule default: true => pool p;\n");
  auto policy = opt::optimize(std::move(p));
  const auto& s = policy.index.stats;
  CHECK(s.rules == 7);
  CHECK(s.anchored_rules == 5);  // a, b, c (twice), e (suffix prefilter), f (regex union)
  CHECK(s.always_rules == 2);    // d, default
  CHECK(s.regexes_prefiltered == 1);
  CHECK(s.regex_unions == 1);
  CHECK(policy.index.always_rules == std::vector<uint32_t>{3, 6});
}
