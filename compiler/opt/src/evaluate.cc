// The optimised evaluator: merged lookups, then candidate rules in order.
// Allocation-free; fixed-size scratch on the stack. Anything past those
// bounds (or a name whose labels hold dots, which regex prefilters cannot
// read) takes the slow path: the reference semantics over every rule.
#include <algorithm>

#include "dnspc/candidate_merge.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/opt/index.h"

namespace dnspc::opt {

namespace {

constexpr uint32_t kMaxFacts = 256;

struct Facts {
  uint32_t names[kMaxFacts];  // name tests, then regex hits (ids >= kRegexHitBase)
  uint32_t name_count = 0;
  uint32_t sources[kMaxFacts];
  uint32_t source_count = 0;
  uint32_t destinations[kMaxFacts];
  uint32_t destination_count = 0;
  uint32_t qtypes[kMaxFacts];
  uint32_t qtype_count = 0;
  uint32_t regexes[kMaxFacts];
  uint32_t regex_count = 0;
};

bool has(const uint32_t* ids, uint32_t n, uint32_t id) { return std::binary_search(ids, ids + n, id); }

class Evaluator {
 public:
  Evaluator(const OptimizedPolicy& pol, const QueryView& q, DecisionState& s, const Facts& f)
      : p_(pol.program), ix_(pol.index), q_(q), s_(s), f_(f) {}

  bool rule(uint32_t r) { return node(p_.rules[r].root); }

 private:
  bool node(uint32_t index) {
    const ir::Node& n = p_.nodes[index];
    switch (n.op) {
      case ir::Node::Op::kTest: return test(n.test);
      case ir::Node::Op::kAnd:
        for (uint32_t c : n.children) {
          if (!node(c)) return false;
        }
        return true;
      case ir::Node::Op::kOr:
        for (uint32_t c : n.children) {
          if (node(c)) return true;
        }
        return false;
      case ir::Node::Op::kNot: return !node(n.children[0]);
    }
    return false;
  }

  bool test(uint32_t t) {
    switch (ix_.test_source[t]) {
      case TestSource::kNames: return has(f_.names, f_.name_count, t);
      case TestSource::kSources: return has(f_.sources, f_.source_count, t);
      case TestSource::kDestinations: return has(f_.destinations, f_.destination_count, t);
      case TestSource::kQtypes: return has(f_.qtypes, f_.qtype_count, t);
      case TestSource::kRegexUnion: return has(f_.regexes, f_.regex_count, t);
      case TestSource::kRegexLazy:
        return dfa_match_qname(p_.regexes[p_.tests[t].table].dfa, q_);
      case TestSource::kDirect: break;
    }
    return interp::eval_test(p_, p_.tests[t], q_, s_);
  }

  const ir::Program& p_;
  const DecisionIndex& ix_;
  const QueryView& q_;
  DecisionState& s_;
  const Facts& f_;
};

bool add_anchored(CandidateMergeN<128>& merge, const DecisionIndex& ix, uint32_t test) {
  uint32_t b = ix.anchor_begin[test], e = ix.anchor_begin[test + 1];
  return merge.add(ix.anchor_rules.data() + b, e - b);
}

}  // namespace

Verdict evaluate(const OptimizedPolicy& pol, const QueryView& q, DecisionState& s) {
  const DecisionIndex& ix = pol.index;
  Facts f;
  f.name_count = name_probe(ix.names, q, f.names, kMaxFacts);
  f.source_count = prefix_probe(ix.sources, q.source, f.sources, kMaxFacts);
  f.destination_count = prefix_probe(ix.destinations, q.destination, f.destinations, kMaxFacts);
  f.qtype_count = qtype_probe(ix.qtypes, q.qtype, f.qtypes, kMaxFacts);
  bool overflow = f.name_count > kMaxFacts || f.source_count > kMaxFacts ||
                  f.destination_count > kMaxFacts || f.qtype_count > kMaxFacts || q.dot_in_label;
  for (const RegexUnion& u : ix.regex_unions) {
    if (overflow) break;
    for (uint32_t id : dfa_accepted(u.dfa, dfa_run_qname(u.dfa, q))) {
      if (f.regex_count == kMaxFacts) {
        overflow = true;
        break;
      }
      f.regexes[f.regex_count++] = u.tests[id];
    }
  }
  CandidateMergeN<128> merge;
  if (!overflow) {
    std::sort(f.regexes, f.regexes + f.regex_count);
    bool ok = merge.add(ix.always_rules.data(), static_cast<uint32_t>(ix.always_rules.size()));
    for (uint32_t i = 0; i < f.name_count && ok; ++i) {
      uint32_t id = f.names[i];
      ok = add_anchored(merge, ix, id >= kRegexHitBase ? id - kRegexHitBase : id);
    }
    for (uint32_t i = 0; i < f.source_count && ok; ++i) ok = add_anchored(merge, ix, f.sources[i]);
    for (uint32_t i = 0; i < f.destination_count && ok; ++i) ok = add_anchored(merge, ix, f.destinations[i]);
    for (uint32_t i = 0; i < f.qtype_count && ok; ++i) ok = add_anchored(merge, ix, f.qtypes[i]);
    for (uint32_t i = 0; i < f.regex_count && ok; ++i) ok = add_anchored(merge, ix, f.regexes[i]);
    overflow = !ok;
  }
  if (overflow) return interp::interpret(pol.program, q, s);

  // Name facts hold regex hits after the name tests; tests look up the name
  // tests only, which sort first.
  while (f.name_count > 0 && f.names[f.name_count - 1] >= kRegexHitBase) --f.name_count;
  Evaluator ev(pol, q, s, f);
  for (uint32_t r; merge.next(&r);) {
    if (ev.rule(r)) return pol.program.verdict_of(r);
  }
  return pol.program.no_match_verdict();
}

}  // namespace dnspc::opt
