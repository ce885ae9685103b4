// Anchor placement. The automaton could honour ^ and $ anywhere, but one that
// something must precede (or follow) can never match; that is always a
// mistake, most often a '^' or '$' meant literally.
#include "parse_checks.h"

#include "parse_failure.h"

namespace dnspc::regex::detail {

namespace {

void check(const RegexNode& n, bool first, bool last) {
  switch (n.kind) {
    case NodeKind::kTextStart:
      if (!first) {
        fail(n.offset, 1,
             "'^' must come first: at the start of the pattern or of an alternative with nothing "
             "before it; here it could never match. Write \\^ to match a literal '^'");
      }
      return;
    case NodeKind::kTextEnd:
      if (!last) {
        fail(n.offset, 1,
             "'$' must come last: at the end of the pattern or of an alternative with nothing "
             "after it; here it could never match. Write \\$ to match a literal '$'");
      }
      return;
    case NodeKind::kConcat: {
      // Another anchor of the same kind consumes nothing: ^(a|^b) is fine.
      const size_t count = n.children.size();
      size_t leading = 0, trailing = 0;
      while (leading < count && n.children[leading].kind == NodeKind::kTextStart) ++leading;
      while (trailing < count && n.children[count - 1 - trailing].kind == NodeKind::kTextEnd) {
        ++trailing;
      }
      for (size_t i = 0; i < count; ++i) {
        check(n.children[i], first && i <= leading, last && i + 1 + trailing >= count);
      }
      return;
    }
    case NodeKind::kAlternation:
    case NodeKind::kRepeat:
      for (const RegexNode& c : n.children) check(c, first, last);
      return;
    case NodeKind::kSet: return;
  }
}

}  // namespace

void check_anchors(const RegexNode& root) { check(root, true, true); }

}  // namespace dnspc::regex::detail
