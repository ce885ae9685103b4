// Recursive descent over the pattern text. Groups disappear into the tree
// (nothing is captured); every node keeps its source range for errors.
#include <fmt/format.h>

#include <optional>

#include "dnspc/regex/parse.h"
#include "escape.h"
#include "group_syntax.h"
#include "parse_checks.h"
#include "parse_failure.h"
#include "quantifier.h"

namespace dnspc::regex {

namespace {

using detail::fail;

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  RegexNode parse() {
    if (p_.empty()) fail(0, 0, "empty pattern: it would match every name; write /./ if that is meant");
    RegexNode root = alternation(std::nullopt);
    if (pos_ < p_.size()) fail(pos_, 1, "unmatched ')'; write \\) to match a literal ')'");
    return root;
  }

 private:
  bool at(char c) const { return pos_ < p_.size() && p_[pos_] == c; }
  bool at_end() const { return pos_ >= p_.size(); }

  // `group_open` is the offset of the enclosing '(' (none at top level).
  RegexNode alternation(std::optional<size_t> group_open) {
    const size_t start = pos_;
    std::vector<RegexNode> branches;
    std::optional<size_t> previous_bar;
    for (;;) {
      std::optional<RegexNode> branch = concat();
      if (!branch) empty_branch(group_open, previous_bar);
      branches.push_back(std::move(*branch));
      if (!at('|')) break;
      previous_bar = pos_++;
    }
    if (branches.size() == 1) return std::move(branches[0]);
    RegexNode n;
    n.kind = NodeKind::kAlternation;
    n.children = std::move(branches);
    n.offset = static_cast<uint32_t>(start);
    n.length = static_cast<uint32_t>(pos_ - start);
    return n;
  }

  [[noreturn]] void empty_branch(std::optional<size_t> group_open,
                                 std::optional<size_t> previous_bar) {
    constexpr const char* kEmptyAlternative =
        "empty alternative: it matches the empty string, so every name; remove the '|', or make "
        "a part optional with (...)?";
    if (previous_bar) fail(*previous_bar, 1, kEmptyAlternative);
    if (at('|')) fail(pos_, 1, kEmptyAlternative);
    if (!group_open) {
      fail(pos_, 1, "unmatched ')'; write \\) to match a literal ')'");  // pattern starts with ')'
    }
    if (at_end()) fail(*group_open, 1, "unclosed group: '(' has no matching ')'");
    fail(*group_open, pos_ + 1 - *group_open, "empty group: it matches nothing useful; remove it");
  }

  // Items up to '|', ')' or the end; nullopt when there are none.
  std::optional<RegexNode> concat() {
    const size_t start = pos_;
    std::vector<RegexNode> items;
    while (!at_end() && !at('|') && !at(')')) items.push_back(quantified(atom()));
    if (items.empty()) return std::nullopt;
    if (items.size() == 1) return std::move(items[0]);
    RegexNode n;
    n.kind = NodeKind::kConcat;
    n.children = std::move(items);
    n.offset = static_cast<uint32_t>(start);
    n.length = static_cast<uint32_t>(pos_ - start);
    return n;
  }

  RegexNode atom() {
    const size_t start = pos_;
    const char c = p_[pos_];
    switch (c) {
      case '(': return group();
      case '[': return bracket_class();
      case '.': ++pos_; return set_node(ByteSet::all(), start);
      case '^': ++pos_; return anchor(NodeKind::kTextStart, start);
      case '$': ++pos_; return anchor(NodeKind::kTextEnd, start);
      case '\\': {
        detail::Escape e = detail::parse_escape(p_, pos_, false);
        ByteSet s = e.set;
        if (!e.is_class) s.add(e.byte);
        return set_node(s, start);
      }
      case '*': case '+': case '?':
        fail(start, 1,
             fmt::format("nothing to repeat: '{}' must follow a character, class or group; write "
                         "\\{} to match it literally",
                         c, c));
      case '{':
        fail(start, 1, "nothing to repeat: '{' must follow a character, class or group; write \\{ "
                       "to match a literal brace");
      case '}': fail(start, 1, "unmatched '}'; write \\} to match a literal brace");
      case ']': fail(start, 1, "unmatched ']'; write \\] to match a literal bracket");
      default: break;
    }
    if (static_cast<uint8_t>(c) >= 0x80) detail::fail_non_ascii(p_, pos_);
    ++pos_;
    ByteSet s;
    s.add(static_cast<uint8_t>(c));
    return set_node(s, start);
  }

  RegexNode set_node(const ByteSet& s, size_t start) const {
    RegexNode n;
    n.kind = NodeKind::kSet;
    n.set = s;
    n.offset = static_cast<uint32_t>(start);
    n.length = static_cast<uint32_t>(pos_ - start);
    return n;
  }

  static RegexNode anchor(NodeKind kind, size_t start) {
    RegexNode n;
    n.kind = kind;
    n.offset = static_cast<uint32_t>(start);
    n.length = 1;
    return n;
  }

  RegexNode group() {
    const size_t open = pos_;
    pos_ = detail::group_body(p_, open);
    if (++depth_ > kMaxGroupDepth) {
      fail(open, 1, fmt::format("groups nested deeper than {}; simplify the pattern", kMaxGroupDepth));
    }
    RegexNode inner = alternation(open);
    if (at_end()) fail(open, 1, "unclosed group: '(' has no matching ')'");
    ++pos_;  // ')'
    --depth_;
    inner.offset = static_cast<uint32_t>(open);
    inner.length = static_cast<uint32_t>(pos_ - open);
    return inner;
  }

  RegexNode bracket_class() {
    const size_t open = pos_++;
    bool negate = false;
    if (at('^')) {
      negate = true;
      ++pos_;
    }
    if (at(']')) {
      fail(open, pos_ + 1 - open, "empty bracket class; write \\] to match a literal ']'");
    }
    ByteSet set;
    for (;;) {
      if (at_end()) fail(open, 1, "unclosed class: '[' has no matching ']'");
      if (at(']')) break;
      const size_t item = pos_;
      detail::Escape lo = class_atom();
      const bool range = at('-') && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']';
      if (!range) {
        if (lo.is_class) {
          set.add_set(lo.set);
        } else {
          set.add(lo.byte);
        }
        continue;
      }
      if (lo.is_class) {
        fail(item, pos_ + 1 - item,
             "a class escape such as \\d cannot start a range; write \\- for a literal '-'");
      }
      ++pos_;  // '-'
      const size_t hi_start = pos_;
      detail::Escape hi = class_atom();
      if (hi.is_class) {
        fail(hi_start, pos_ - hi_start,
             "a class escape such as \\d cannot end a range; write \\- for a literal '-'");
      }
      if (hi.byte < lo.byte) {
        fail(item, pos_ - item,
             fmt::format("reversed range {}: the first byte must not come after the last; write "
                         "{}-{}",
                         p_.substr(item, pos_ - item), p_.substr(hi_start, pos_ - hi_start),
                         p_.substr(item, hi_start - 1 - item)));
      }
      set.add_range(lo.byte, hi.byte);
    }
    ++pos_;  // ']'
    if (negate) set.negate();
    return set_node(set, open);
  }

  detail::Escape class_atom() {
    const char c = p_[pos_];
    if (c == '\\') return detail::parse_escape(p_, pos_, true);
    if (c == '[' && pos_ + 1 < p_.size() &&
        (p_[pos_ + 1] == ':' || p_[pos_ + 1] == '.' || p_[pos_ + 1] == '=')) {
      const char kind = p_[pos_ + 1];
      size_t close = p_.find(std::string{kind, ']'}, pos_ + 2);
      fail(pos_, close == std::string_view::npos ? 2 : close + 2 - pos_,
           "POSIX classes like [:alpha:] are not supported; list the bytes, e.g. [a-z0-9]");
    }
    if (static_cast<uint8_t>(c) >= 0x80) detail::fail_non_ascii(p_, pos_);
    ++pos_;
    detail::Escape e;
    e.byte = static_cast<uint8_t>(c);
    return e;
  }

  RegexNode quantified(RegexNode atom_node) {
    if (!detail::at_quantifier(p_, pos_)) return atom_node;
    if (atom_node.kind == NodeKind::kTextStart || atom_node.kind == NodeKind::kTextEnd) {
      fail(pos_, 1, "an anchor cannot be repeated: '^' and '$' match a position, not text");
    }
    const detail::Quantifier q = detail::parse_quantifier(p_, pos_);
    RegexNode n;
    n.kind = NodeKind::kRepeat;
    n.min = q.min;
    n.max = q.max;
    n.offset = atom_node.offset;
    n.length = static_cast<uint32_t>(pos_ - atom_node.offset);
    n.children.push_back(std::move(atom_node));
    return n;
  }

  std::string_view p_;
  size_t pos_ = 0;
  uint32_t depth_ = 0;
};

}  // namespace

RegexResult<Regex> parse_regex(std::string_view pattern) {
  try {
    Regex r;
    r.root = Parser(pattern).parse();
    detail::check_anchors(r.root);
    detail::check_size(r.root);
    r.pattern = std::string(pattern);
    return r;
  } catch (const detail::ParseFailure& f) {
    return f.error;
  }
}

}  // namespace dnspc::regex
