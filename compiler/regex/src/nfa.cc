// Thompson construction, built back to front: each node is compiled knowing
// the state it continues to, which needs no patch lists.
#include "nfa.h"

#include <map>

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

  uint32_t set_index(const ByteSet& s) {
    auto [it, inserted] = set_ids_.try_emplace(key(s), static_cast<uint32_t>(nfa_.sets.size()));
    if (inserted) nfa_.sets.push_back(s);
    return it->second;
  }

  static std::array<uint64_t, 4> key(const ByteSet& s) {
    std::array<uint64_t, 4> k{};
    for (unsigned b = 0; b < 256; ++b) {
      if (s.test(static_cast<uint8_t>(b))) k[b >> 6] |= uint64_t{1} << (b & 63);
    }
    return k;
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
  std::map<std::array<uint64_t, 4>, uint32_t> set_ids_;
};

}  // namespace

Nfa build_nfa(std::span<const Regex* const> regexes) {
  Nfa nfa;
  Builder b(nfa);
  for (size_t i = 0; i < regexes.size(); ++i) b.add_pattern(*regexes[i], static_cast<uint32_t>(i));
  return nfa;
}

}  // namespace dnspc::regex::detail
