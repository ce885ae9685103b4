// Quantifiers. Lazy forms are accepted and ignored: laziness picks which
// match a backtracking engine reports, never whether a text matches.
#include "quantifier.h"

#include <fmt/format.h>

#include <algorithm>

#include "dnspc/regex/parse.h"
#include "parse_failure.h"

namespace dnspc::regex::detail {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// {n} {n,} {n,m}, with `pos` at '{'.
Quantifier braces(std::string_view p, size_t& pos) {
  const size_t open = pos++;
  auto through_close = [&]() {
    size_t close = p.find('}', open);
    return close == std::string_view::npos ? 1 : close + 1 - open;
  };
  auto malformed = [&]() {
    fail(open, through_close(),
         "malformed repetition: write {n}, {n,} or {n,m} with decimal numbers; write \\{ for a "
         "literal brace");
  };
  if (pos < p.size() && p[pos] == ',') {
    fail(open, through_close(), "repetition needs a lower bound: write {0,m}");
  }
  auto number = [&]() {
    if (!(pos < p.size() && is_digit(p[pos]))) malformed();
    uint64_t v = 0;
    while (pos < p.size() && is_digit(p[pos])) {
      v = std::min<uint64_t>(v * 10 + static_cast<uint64_t>(p[pos] - '0'), 1u << 30);
      ++pos;
    }
    return static_cast<uint32_t>(v);
  };
  Quantifier q;
  q.min = q.max = number();
  if (pos < p.size() && p[pos] == ',') {
    ++pos;
    q.max = pos < p.size() && p[pos] == '}' ? kUnbounded : number();
  }
  if (!(pos < p.size() && p[pos] == '}')) malformed();
  ++pos;
  const size_t length = pos - open;
  const uint32_t largest = q.max == kUnbounded ? q.min : std::max(q.min, q.max);
  if (largest > kMaxRepeat) {
    fail(open, length,
         fmt::format("repetition bound {} is over the maximum of {}; no name is that long "
                     "(255 bytes), so use + or * instead",
                     largest, kMaxRepeat));
  }
  if (q.max != kUnbounded && q.max < q.min) {
    fail(open, length, fmt::format("repetition bounds are reversed: write {{{},{}}}", q.max, q.min));
  }
  return q;
}

}  // namespace

bool at_quantifier(std::string_view p, size_t pos) {
  return pos < p.size() && (p[pos] == '*' || p[pos] == '+' || p[pos] == '?' || p[pos] == '{');
}

Quantifier parse_quantifier(std::string_view p, size_t& pos) {
  const size_t start = pos;
  Quantifier q{0, kUnbounded};
  switch (p[pos]) {
    case '*': ++pos; break;
    case '+': q.min = 1; ++pos; break;
    case '?': q.max = 1; ++pos; break;
    default: q = braces(p, pos); break;
  }
  const size_t end = pos;
  if (pos < p.size() && p[pos] == '?') {
    ++pos;
  } else if (pos < p.size() && p[pos] == '+') {
    fail(start, pos + 1 - start,
         fmt::format("possessive quantifiers ({}) are not supported: they only matter to "
                     "backtracking engines; write {}",
                     p.substr(start, pos + 1 - start), p.substr(start, end - start)));
  }
  if (at_quantifier(p, pos)) {
    fail(pos, 1, "a quantifier cannot follow another; wrap the repeated part in a group, e.g. "
                 "(a+)*");
  }
  return q;
}

}  // namespace dnspc::regex::detail
