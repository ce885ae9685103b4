#include <algorithm>
#include <unordered_map>

#include "dnf.h"
#include "dnspc/opt/index.h"
#include "dnspc/opt/passes.h"
#include "dnspc/regex/compile.h"
#include "dnspc/regex/parse.h"
#include "dnspc/wire.h"

namespace dnspc::opt {

namespace {

using ir::TestKind;

std::string wire_name(const std::string& text) {
  uint8_t buf[256];
  size_t len = encode_name(text, buf, sizeof buf);
  return std::string(reinterpret_cast<const char*>(buf), len);
}

// Unions of the regexes no suffix can prefilter, each within the budget:
// halving a chunk until its union fits.
void build_unions(const ir::Program& p, const std::vector<uint32_t>& tests, unsigned budget,
                  DecisionIndex& ix, std::vector<uint32_t>& unplaced) {
  std::vector<regex::Regex> asts;
  std::vector<uint32_t> parsed_tests;
  for (uint32_t t : tests) {
    auto ast = regex::parse_regex(p.regexes[p.tests[t].table].pattern);
    if (!ast) {
      unplaced.push_back(t);
      continue;
    }
    asts.push_back(std::move(ast.value()));
    parsed_tests.push_back(t);
  }
  regex::DfaOptions options;
  options.state_budget = budget;
  std::vector<std::pair<size_t, size_t>> work;  // [begin, end) ranges of asts
  constexpr size_t kChunk = 64;
  for (size_t b = 0; b < asts.size(); b += kChunk) work.push_back({b, std::min(asts.size(), b + kChunk)});
  while (!work.empty()) {
    auto [b, e] = work.back();
    work.pop_back();
    std::vector<const regex::Regex*> members;
    for (size_t i = b; i < e; ++i) members.push_back(&asts[i]);
    auto dfa = regex::build_union(members, options);
    if (dfa) {
      RegexUnion u{std::move(*dfa), {}};
      for (size_t i = b; i < e; ++i) u.tests.push_back(parsed_tests[i]);
      ix.stats.regex_union_states += u.dfa.state_count;
      ix.regex_unions.push_back(std::move(u));
    } else if (e - b == 1) {
      unplaced.push_back(parsed_tests[b]);
    } else {
      size_t mid = b + (e - b) / 2;
      work.push_back({b, mid});
      work.push_back({mid, e});
    }
  }
}

bool has_stateful_test(const ir::Program& p, uint32_t node) {
  const ir::Node& n = p.nodes[node];
  if (n.op == ir::Node::Op::kTest) return ir::is_stateful(p.tests[n.test].kind);
  return std::any_of(n.children.begin(), n.children.end(), [&](uint32_t c) { return has_stateful_test(p, c); });
}

}  // namespace

DecisionIndex build_index(const ir::Program& p, const IndexOptions& options) {
  DecisionIndex ix;
  ix.test_source.assign(p.tests.size(), TestSource::kDirect);
  std::vector<bool> anchorable(p.tests.size(), false);
  NameIndexBuilder names;
  PrefixIndexBuilder sources, destinations;
  QtypeIndexBuilder qtypes;
  std::vector<uint32_t> union_candidates;

  for (uint32_t t = 0; t < p.tests.size(); ++t) {
    const ir::Test& test = p.tests[t];
    switch (test.kind) {
      case TestKind::kName:
        for (const ir::NameEntry& e : p.name_sets[test.table].entries) {
          (void)names.add(e.wire, e.suffix ? NameMode::kSuffix : NameMode::kExact, t);
        }
        ix.test_source[t] = TestSource::kNames;
        anchorable[t] = true;
        break;
      case TestKind::kSource:
      case TestKind::kDestination: {
        bool src = test.kind == TestKind::kSource;
        for (const ir::Prefix& pre : p.prefix_sets[test.table].prefixes) {
          (void)(src ? sources : destinations).add(pre.address, pre.length, t);
          ++ix.stats.prefixes;
        }
        ix.test_source[t] = src ? TestSource::kSources : TestSource::kDestinations;
        anchorable[t] = true;
        break;
      }
      case TestKind::kQtype:
        qtypes.add(p.qtype_sets[test.table].qtypes, t);
        ix.test_source[t] = TestSource::kQtypes;
        anchorable[t] = true;
        ++ix.stats.qtype_tests;
        break;
      case TestKind::kRegex: {
        ++ix.stats.regexes;
        const ir::Regex& re = p.regexes[test.table];
        ix.test_source[t] = TestSource::kRegexLazy;
        if (!re.dns_suffix.empty()) {
          std::string wire = wire_name(re.dns_suffix);
          if (!wire.empty() && names.add(wire, NameMode::kSuffix, t + kRegexHitBase) == nullptr) {
            anchorable[t] = true;
            ++ix.stats.regexes_prefiltered;
            break;
          }
        }
        union_candidates.push_back(t);
        break;
      }
      default:
        break;
    }
  }
  std::vector<uint32_t> unplaced;
  build_unions(p, union_candidates, options.regex_union_budget, ix, unplaced);
  for (const RegexUnion& u : ix.regex_unions) {
    for (uint32_t t : u.tests) {
      ix.test_source[t] = TestSource::kRegexUnion;
      anchorable[t] = true;
    }
  }
  ix.stats.regex_unions = ix.regex_unions.size();
  ix.stats.name_keys = names.key_count();
  ix.names = names.build();
  ix.sources = sources.build();
  ix.destinations = destinations.build();
  ix.qtypes = qtypes.build();

  // Anchors: in each conjunction, the anchorable test that the fewest
  // conjunctions share, so candidate lists stay short.
  std::vector<std::optional<std::vector<Conjunction>>> dnfs;
  std::vector<uint32_t> frequency(p.tests.size(), 0);
  for (const ir::Rule& r : p.rules) {
    dnfs.push_back(to_dnf(p, r.root, false, options.max_conjunctions));
    if (!dnfs.back()) continue;
    for (const Conjunction& c : *dnfs.back()) {
      for (const Literal& l : c) {
        if (!l.negated && anchorable[l.test]) ++frequency[l.test];
      }
    }
  }
  std::vector<std::vector<uint32_t>> filed(p.tests.size());
  ix.stats.rules = p.rules.size();
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    const auto& dnf = dnfs[r];
    std::vector<uint32_t> anchors;
    bool always = !dnf.has_value();
    if (has_stateful_test(p, p.rules[r].root)) {
      // Skipping such a rule is exact only if its anchor is evaluated before
      // any of its stateful tests: a stateless direct child of its top-level
      // and (lowering puts those first). Otherwise it is always a candidate.
      uint32_t best = UINT32_MAX;
      const ir::Node& root = p.nodes[p.rules[r].root];
      std::vector<uint32_t> conjuncts;
      if (root.op == ir::Node::Op::kAnd) conjuncts = root.children;
      for (uint32_t c : conjuncts) {
        const ir::Node& n = p.nodes[c];
        if (n.op != ir::Node::Op::kTest || !anchorable[n.test]) continue;
        if (best == UINT32_MAX || frequency[n.test] < frequency[best]) best = n.test;
      }
      if (best == UINT32_MAX) {
        ix.always_rules.push_back(r);
      } else {
        ++ix.stats.anchored_rules;
        filed[best].push_back(r);
      }
      continue;
    }
    if (dnf) {
      for (const Conjunction& c : *dnf) {
        uint32_t best = UINT32_MAX;
        for (const Literal& l : c) {
          if (l.negated || !anchorable[l.test]) continue;
          if (best == UINT32_MAX || frequency[l.test] < frequency[best]) best = l.test;
        }
        if (best == UINT32_MAX) {
          always = true;
          break;
        }
        anchors.push_back(best);
      }
    }
    if (always) {
      ix.always_rules.push_back(r);
      continue;
    }
    if (anchors.empty()) continue;  // a condition that is always false
    ++ix.stats.anchored_rules;
    std::sort(anchors.begin(), anchors.end());
    anchors.erase(std::unique(anchors.begin(), anchors.end()), anchors.end());
    for (uint32_t t : anchors) filed[t].push_back(r);
  }
  ix.stats.always_rules = ix.always_rules.size();
  ix.anchor_begin.reserve(p.tests.size() + 1);
  for (const auto& list : filed) {
    ix.anchor_begin.push_back(static_cast<uint32_t>(ix.anchor_rules.size()));
    ix.anchor_rules.insert(ix.anchor_rules.end(), list.begin(), list.end());
  }
  ix.anchor_begin.push_back(static_cast<uint32_t>(ix.anchor_rules.size()));
  return ix;
}

OptimizedPolicy optimize(ir::Program program, const IndexOptions& options) {
  merge_set_tests(program);
  dedupe_tests(program);
  order_by_cost(program);
  OptimizedPolicy out{std::move(program), {}};
  out.index = build_index(out.program, options);
  return out;
}

}  // namespace dnspc::opt
