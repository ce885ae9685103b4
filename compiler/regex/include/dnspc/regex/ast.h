// The regex syntax tree: what parse_regex() produces and what every later
// pass (automaton construction, literal extraction, test oracles) consumes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dnspc::regex {

constexpr uint8_t fold_byte(uint8_t b) {
  return b >= 'A' && b <= 'Z' ? static_cast<uint8_t>(b + ('a' - 'A')) : b;
}

// A set of bytes in the folded domain. Matching is case-insensitive over
// lower-case text, so 'A'..'Z' are never members: adding one adds its
// lower-case letter, and the DFA maps upper-case input onto lower case.
class ByteSet {
 public:
  static ByteSet all() {
    ByteSet s;
    s.negate();
    return s;
  }
  bool test(uint8_t b) const { return (bits_[b >> 6] >> (b & 63)) & 1u; }
  void add(uint8_t b) {
    b = fold_byte(b);
    bits_[b >> 6] |= uint64_t{1} << (b & 63);
  }
  void add_range(uint8_t lo, uint8_t hi) {
    for (unsigned b = lo; b <= hi; ++b) add(static_cast<uint8_t>(b));
  }
  void add_set(const ByteSet& o) {
    for (size_t i = 0; i < bits_.size(); ++i) bits_[i] |= o.bits_[i];
  }
  // Complement first, then fold: [^a] must not match 'A' either.
  void negate() {
    for (uint64_t& w : bits_) w = ~w;
    bits_[1] &= ~(((uint64_t{1} << 26) - 1) << 1);  // 'A'..'Z' are bits 65..90
  }
  size_t count() const {
    size_t n = 0;
    for (uint64_t w : bits_) n += static_cast<size_t>(__builtin_popcountll(w));
    return n;
  }
  bool empty() const { return count() == 0; }
  // The only member, or -1 when there are none or several.
  int single() const {
    if (count() != 1) return -1;
    for (size_t i = 0; i < bits_.size(); ++i) {
      if (bits_[i]) return static_cast<int>(i * 64 + static_cast<size_t>(__builtin_ctzll(bits_[i])));
    }
    return -1;
  }
  bool operator==(const ByteSet&) const = default;
  // Bit b % 64 of word b / 64 is byte b: for hashing and whole-word set
  // algebra in the automaton passes.
  const std::array<uint64_t, 4>& words() const { return bits_; }

 private:
  std::array<uint64_t, 4> bits_{};
};

enum class NodeKind : uint8_t {
  kSet,          // one byte from `set`
  kConcat,       // children in sequence (at least two)
  kAlternation,  // any one child (at least two)
  kRepeat,       // children[0] between min and max times
  kTextStart,    // ^: matches the empty string at the start of the text
  kTextEnd,      // $: matches the empty string at the end of the text
};

constexpr uint32_t kUnbounded = UINT32_MAX;

struct RegexNode {
  NodeKind kind = NodeKind::kSet;
  ByteSet set;
  std::vector<RegexNode> children;
  uint32_t min = 0, max = 0;  // kRepeat; max may be kUnbounded
  // Where the node came from in the pattern (groups include their parens).
  uint32_t offset = 0, length = 0;
};

struct Regex {
  RegexNode root;
  std::string pattern;
};

}  // namespace dnspc::regex
