// What the regex tests share: a matcher that is obviously right (the oracle
// every DFA is checked against), random patterns from a grammar, and random
// texts over a small alphabet that makes matches likely.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "dnspc/dfa_table.h"
#include "dnspc/regex/ast.h"
#include "dnspc/regex/compile.h"
#include "dnspc/regex/parse.h"

namespace dnspc::regex_test {

using namespace dnspc::regex;

inline bool dfa_matches(const DfaTable& t, std::string_view text) {
  return dfa_match(t, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// Straight from the definitions: ends(n, i) is the set of positions j such
// that node n matches text[i, j), as a bit mask (texts up to 63 bytes), and
// search semantics is "some i has a non-empty ends(root, i)". Memoised so
// nested repetitions stay cheap.
class Oracle {
 public:
  explicit Oracle(const Regex& r) : root_(r.root) {}

  bool matches(std::string_view text) {
    text_ = text;
    memo_.clear();
    for (size_t i = 0; i <= text_.size(); ++i) {
      if (ends(root_, i) != 0) return true;
    }
    return false;
  }

 private:
  static uint64_t bit(size_t i) { return uint64_t{1} << i; }

  uint64_t ends(const RegexNode& n, size_t i) {
    auto key = std::make_pair(&n, i);
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    uint64_t r = compute(n, i);
    memo_[key] = r;
    return r;
  }

  // Every end reachable by one more match of n from any position in `from`.
  uint64_t step(const RegexNode& n, uint64_t from) {
    uint64_t r = 0;
    for (size_t j = 0; j <= text_.size(); ++j) {
      if (from & bit(j)) r |= ends(n, j);
    }
    return r;
  }

  uint64_t compute(const RegexNode& n, size_t i) {
    switch (n.kind) {
      case NodeKind::kSet:
        return i < text_.size() && n.set.test(fold_byte(static_cast<uint8_t>(text_[i]))) ? bit(i + 1)
                                                                                          : 0;
      case NodeKind::kTextStart: return i == 0 ? bit(i) : 0;
      case NodeKind::kTextEnd: return i == text_.size() ? bit(i) : 0;
      case NodeKind::kConcat: {
        uint64_t cur = bit(i);
        for (const RegexNode& c : n.children) cur = step(c, cur);
        return cur;
      }
      case NodeKind::kAlternation: {
        uint64_t r = 0;
        for (const RegexNode& c : n.children) r |= ends(c, i);
        return r;
      }
      case NodeKind::kRepeat: {
        const RegexNode& x = n.children[0];
        uint64_t cur = bit(i);
        for (uint32_t k = 0; k < n.min && cur; ++k) cur = step(x, cur);
        uint64_t result = cur;
        if (n.max == kUnbounded) {
          for (;;) {
            uint64_t more = result | step(x, result);
            if (more == result) break;
            result = more;
          }
        } else {
          for (uint32_t k = n.min; k < n.max && cur; ++k) {
            cur = step(x, cur);
            result |= cur;
          }
        }
        return result;
      }
    }
    return 0;
  }

  const RegexNode& root_;
  std::string_view text_;
  std::map<std::pair<const RegexNode*, size_t>, uint64_t> memo_;
};

// Patterns from a small grammar over the alphabet of random_text(), with
// anchors only where the parser allows them (first / last out to the edge).
class PatternGenerator {
 public:
  explicit PatternGenerator(uint32_t seed) : rng_(seed) {}

  std::string pattern() { return alternation(3, true, true); }

  std::string text(size_t max_len = 10) {
    static constexpr std::string_view kAlphabet = "abcA.1-";
    std::string t(pick(max_len + 1), ' ');
    for (char& c : t) c = kAlphabet[pick(kAlphabet.size())];
    return t;
  }

  std::mt19937& rng() { return rng_; }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(unsigned percent) { return pick(100) < percent; }

  std::string alternation(int depth, bool first, bool last) {
    std::string s = concat(depth, first, last);
    while (chance(25)) s += "|" + concat(depth, first, last);
    return s;
  }

  std::string concat(int depth, bool first, bool last) {
    const size_t n = 1 + pick(3);
    const bool caret = first && chance(20);
    const bool dollar = last && chance(20);
    std::string s = caret ? "^" : "";
    for (size_t i = 0; i < n; ++i) {
      s += quantified(depth, first && !caret && i == 0, last && !dollar && i + 1 == n);
    }
    if (dollar) s += "$";
    return s;
  }

  std::string quantified(int depth, bool first, bool last) {
    std::string s = atom(depth, first, last);
    if (!chance(35)) return s;
    static constexpr std::string_view kQuantifiers[] = {"*", "+", "?", "{2}", "{0,2}", "{1,3}", "{2,}", "{0}"};
    s += kQuantifiers[pick(std::size(kQuantifiers))];
    if (chance(10)) s += "?";
    return s;
  }

  std::string atom(int depth, bool first, bool last) {
    static constexpr std::string_view kAtoms[] = {"a", "b", "c", "A", "\\.", ".", "[ab]", "[^a]",
                                                  "[a-c]", "[.1]", "\\d", "\\w", "\\x41", "-"};
    if (depth > 0 && chance(25)) {
      return (chance(50) ? "(" : "(?:") + alternation(depth - 1, first, last) + ")";
    }
    return std::string(kAtoms[pick(std::size(kAtoms))]);
  }

  std::mt19937 rng_;
};

}  // namespace dnspc::regex_test
