// Group openers. Refusals cover the whole opener (up to its ')' or closing
// delimiter when one is there), so the policy compiler underlines it all.
#include "group_syntax.h"

#include <fmt/format.h>

#include <algorithm>

#include "parse_failure.h"

namespace dnspc::regex::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_flag_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'; }

// Length of the opener up to and including `close`, or `fallback` without one.
size_t through(std::string_view rest, char close, size_t from, size_t fallback) {
  size_t at = rest.find(close, from);
  return at == std::string_view::npos ? fallback : at + 1;
}

[[noreturn]] void refuse_inline_flags(std::string_view rest, size_t open) {
  size_t i = 2;
  bool case_flag = false;
  while (i < rest.size() && is_flag_char(rest[i])) case_flag |= rest[i++] == 'i';
  if (i > 2 && i < rest.size() && (rest[i] == ')' || rest[i] == ':')) {
    const std::string_view flags = rest.substr(0, i + 1);
    if (case_flag && rest[i] == ')') {
      fail(open, i + 1, fmt::format("matching is already case-insensitive; remove {}", flags));
    }
    if (case_flag) {
      fail(open, i + 1,
           fmt::format("matching is already case-insensitive; write (?:...) instead of {}...)",
                       flags));
    }
    fail(open, i + 1,
         fmt::format("inline flags like {} are not supported; names have no lines, '.' already "
                     "matches any byte and case never matters",
                     flags));
  }
  const std::string_view opener = rest.substr(0, std::min<size_t>(3, rest.size()));
  fail(open, opener.size(),
       fmt::format("'{}' is not supported; write (...) or (?:...) for a group", opener));
}

}  // namespace

size_t group_body(std::string_view p, size_t open) {
  const std::string_view rest = p.substr(open);
  if (!rest.starts_with("(?")) return open + 1;
  if (rest.starts_with("(?:")) return open + 3;
  auto refuse = [&](size_t length, std::string_view what) {
    fail(open, std::min(length, rest.size()), std::string(what));
  };
  if (rest.starts_with("(?=") || rest.starts_with("(?!")) {
    refuse(3, "lookahead (?=...) and (?!...) is not supported: a DFA cannot look ahead; match "
              "the text itself, or split the rule in two");
  }
  if (rest.starts_with("(?<=") || rest.starts_with("(?<!")) {
    refuse(4, "lookbehind (?<=...) and (?<!...) is not supported: a DFA cannot look behind; "
              "match the text itself, or split the rule in two");
  }
  if (rest.starts_with("(?>")) {
    refuse(3, "atomic groups (?>...) are not supported: they change matching only for "
              "backtracking engines; write (?:...)");
  }
  const bool numbered = (rest.size() > 2 && is_digit(rest[2])) ||
                        (rest.size() > 3 && (rest[2] == '+' || rest[2] == '-') && is_digit(rest[3]));
  if (numbered || rest.starts_with("(?P=") || rest.starts_with("(?P>") ||
      rest.starts_with("(?&") || rest.starts_with("(?R")) {
    refuse(through(rest, ')', 2, 3),
           "backreferences, recursion and subroutine calls are not supported: they are not "
           "regular; repeat the group's pattern instead");
  }
  if (rest.starts_with("(?<") || rest.starts_with("(?P<") || rest.starts_with("(?'")) {
    refuse(through(rest, rest[2] == '\'' ? '\'' : '>', 3, 3),
           "named groups are not supported (nothing is captured); write (?:...)");
  }
  if (rest.starts_with("(?#")) {
    refuse(through(rest, ')', 3, 3),
           "comments (?#...) are not supported; put the comment in the policy instead");
  }
  if (rest.starts_with("(?(")) {
    refuse(3, "conditionals (?(...)...) are not supported: they are not regular");
  }
  if (rest.starts_with("(?|")) {
    refuse(3, "branch reset groups (?|...) are not supported; write (?:...)");
  }
  refuse_inline_flags(rest, open);
}

}  // namespace dnspc::regex::detail
