// Thompson construction, built back to front: each node is compiled knowing
// the state it continues to, which needs no patch lists.
#include "nfa.h"

#include <algorithm>

#include "id_table.h"

namespace dnspc::regex::detail {

namespace {

class Builder {
 public:
  explicit Builder(Nfa& nfa) : nfa_(nfa) {}

  void add_pattern(const Regex& r, uint32_t pattern) {
    pattern_ = pattern;
    const uint32_t match = add({NfaKind::kMatch, kNoState, kNoState, 0, pattern});
    const uint32_t entry = build(r.root, match);
    // Entry loop: split to the pattern or to one more byte of prefix.
    const uint32_t loop = add({NfaKind::kSplit, kNoState, entry, 0, pattern});
    const uint32_t any = add({NfaKind::kBytes, loop, kNoState, set_index(ByteSet::all()), pattern});
    nfa_.states[loop].out = any;
    nfa_.starts.push_back(loop);
    nfa_.matches.push_back(match);
  }

 private:
  uint32_t add(NfaState s) {
    nfa_.states.push_back(s);
    return static_cast<uint32_t>(nfa_.states.size() - 1);
  }

  // Sets are interned so later passes work per distinct set.
  uint32_t set_index(const ByteSet& s) {
    const uint64_t h = hash_sequence(std::span<const uint64_t>(s.words()));
    const uint32_t found = set_ids_.find(h, [&](uint32_t id) { return nfa_.sets[id] == s; });
    if (found != IdTable::kNone) return found;
    const auto id = static_cast<uint32_t>(nfa_.sets.size());
    nfa_.sets.push_back(s);
    set_ids_.insert(h, id);
    return id;
  }

  uint32_t split(uint32_t a, uint32_t b) { return add({NfaKind::kSplit, a, b, 0, pattern_}); }

  // Returns the entry of `n` compiled to continue at `next`.
  uint32_t build(const RegexNode& n, uint32_t next) {
    switch (n.kind) {
      case NodeKind::kSet:
        return add({NfaKind::kBytes, next, kNoState, set_index(n.set), pattern_});
      case NodeKind::kTextStart: return add({NfaKind::kTextStart, next, kNoState, 0, pattern_});
      case NodeKind::kTextEnd: return add({NfaKind::kTextEnd, next, kNoState, 0, pattern_});
      case NodeKind::kConcat:
        for (size_t i = n.children.size(); i-- > 0;) next = build(n.children[i], next);
        return next;
      case NodeKind::kAlternation: {
        uint32_t entry = build(n.children.back(), next);
        for (size_t i = n.children.size() - 1; i-- > 0;) entry = split(build(n.children[i], next), entry);
        return entry;
      }
      case NodeKind::kRepeat: return repeat(n.children[0], n.min, n.max, next);
    }
    return next;
  }

  // x{min,max} as min copies of x, then either a loop or max-min nested
  // optional copies x(x(x)?)?)? (so the NFA stays linear in max).
  uint32_t repeat(const RegexNode& x, uint32_t min, uint32_t max, uint32_t next) {
    uint32_t tail = next;
    uint32_t copies = min;
    if (max == kUnbounded) {
      // x+ loops back through one copy; x* is (x+)?.
      const uint32_t loop = split(kNoState, next);
      const uint32_t body = build(x, loop);
      nfa_.states[loop].out = body;
      if (min == 0) return loop;
      tail = body;
      copies = min - 1;
    } else {
      for (uint32_t i = min; i < max; ++i) tail = split(build(x, tail), next);
    }
    for (uint32_t i = 0; i < copies; ++i) tail = build(x, tail);
    return tail;
  }

  Nfa& nfa_;
  uint32_t pattern_ = 0;
  IdTable set_ids_{32};
};

}  // namespace

Nfa build_nfa(std::span<const Regex* const> regexes) {
  Nfa nfa;
  // Room for typical patterns (a state or two per pattern byte, a few
  // dozen distinct sets), so the vectors rarely regrow.
  size_t bytes = 0;
  for (const Regex* r : regexes) bytes += r->pattern.size();
  nfa.states.reserve(std::min<size_t>(2 * bytes + 16, 4096));
  nfa.sets.reserve(32);
  nfa.starts.reserve(regexes.size());
  nfa.matches.reserve(regexes.size());
  Builder b(nfa);
  for (size_t i = 0; i < regexes.size(); ++i) b.add_pattern(*regexes[i], static_cast<uint32_t>(i));
  return nfa;
}

}  // namespace dnspc::regex::detail
