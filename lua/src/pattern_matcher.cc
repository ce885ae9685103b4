// Lua 5.4's patterns, matched the way stock Lua matches them, with every step
// counted.
//
// The semantics are stock Lua 5.4's (reference manual, 6.4.1), down to what
// only shows at the edges: a malformed pattern is reported only when the
// matcher reaches the bad part, the order in which alternatives are tried, the
// nesting bound ("pattern too complex") and the error messages (as 5.4.4 words
// them). tests/unit/lua/patterns_test.cc runs ours and stock Lua's side by side.
//
// The steps counted: a single character, class or set tried at a position,
// each attempt to match the rest of the pattern, each character a %b scans,
// each set member looked at, and bytes compared in bulk by the 16.
#include "pattern_matcher.h"

#include <cstring>

#include "sandbox.h"

namespace dnspc::lua::patterns {
namespace {

constexpr char kEscape = '%';
constexpr int kMaxNesting = 200;  // stock Lua's MAXCCALLS: nested attempts per match

// A match step costs about 1.8 ns, a sandboxed VM instruction about 3.6 ns
// (measured): 2 steps are charged as one instruction, so a budget lasts
// about as long in patterns as in plain Lua. Charging every 1024 steps keeps the budget
// out of the inner loops.
constexpr std::uint64_t kStepsPerInstruction = 2;
constexpr std::uint64_t kStepsPerCharge = 1024;

unsigned char byte(char c) {
  return static_cast<unsigned char>(c);
}

// ------------------------------------------------------------------------------- character classes
// As the C locale's <ctype.h> sees bytes: stock Lua calls isalpha and the
// others, and dnspc never calls setlocale.

bool is_upper(int c) {
  return c >= 'A' && c <= 'Z';
}

bool is_lower(int c) {
  return c >= 'a' && c <= 'z';
}

bool is_alpha(int c) {
  return is_upper(c) || is_lower(c);
}

bool is_digit(int c) {
  return c >= '0' && c <= '9';
}

bool is_alnum(int c) {
  return is_alpha(c) || is_digit(c);
}

bool is_graph(int c) {
  return c > ' ' && c < 127;
}

// Whether `c` is in the class %`letter`. An upper-case class letter is the
// complement of its lower-case one; any other character stands for itself.
bool in_class(int c, int letter) {
  bool in = false;
  switch (is_upper(letter) ? letter - 'A' + 'a' : letter) {
    case 'a':
      in = is_alpha(c);
      break;
    case 'c':
      in = c < ' ' || c == 127;
      break;
    case 'd':
      in = is_digit(c);
      break;
    case 'g':
      in = is_graph(c);
      break;
    case 'l':
      in = is_lower(c);
      break;
    case 'p':
      in = is_graph(c) && !is_alnum(c);
      break;
    case 's':
      in = c == ' ' || (c >= '\t' && c <= '\r');
      break;
    case 'u':
      in = is_upper(c);
      break;
    case 'w':
      in = is_alnum(c);
      break;
    case 'x':
      in = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      break;
    case 'z':  // deprecated since Lua 5.2, still there in 5.4
      in = c == 0;
      break;
    default:
      return letter == c;
  }
  return is_upper(letter) ? !in : in;
}

// Whether `c` is in the set whose '[' is at `set` and whose ']' is at `close`
// (item_end found it). Members: %x classes, ranges a-z, single characters.
bool in_set(Matcher& m, int c, const char* set, const char* close) {
  const char* p = set + 1;
  bool complement = *p == '^';
  if (complement) ++p;
  bool found = false;
  const char* start = p;
  for (; p < close && !found; ++p) {
    if (*p == kEscape) {
      ++p;
      found = in_class(c, byte(*p));
    } else if (p[1] == '-' && p + 2 < close) {  // a '-' first or last is itself
      found = byte(p[0]) <= c && c <= byte(p[2]);
      p += 2;
    } else {
      found = byte(*p) == c;
    }
  }
  charge(m, 1 + static_cast<std::uint64_t>(p - start));
  return found != complement;
}

// ------------------------------------------------------------------------------------- the matcher

// Where the single-character item at `p` ends: a character, '.', %x or a set.
// Checks only this item: stock Lua reports a malformed pattern only when the
// matcher gets there, and so do we.
const char* item_end(Matcher& m, const char* p) {
  if (*p == kEscape) {
    if (p + 1 == m.pattern_end) luaL_error(m.L, "malformed pattern (ends with '%%')");
    return p + 2;
  }
  if (*p != '[') return p + 1;
  const char* q = p + 1;
  if (q != m.pattern_end && *q == '^') ++q;
  // The first member may be ']' ("[]]" and "[^]]" hold ']').
  do {
    if (q == m.pattern_end) luaL_error(m.L, "malformed pattern (missing ']')");
    bool escape = *q == kEscape;
    ++q;
    if (escape && q != m.pattern_end) ++q;  // "%]" is a member
  } while (q == m.pattern_end || *q != ']');
  charge(m, static_cast<std::uint64_t>(q - p));
  return q + 1;
}

// Whether the item [p, ep) matches the character at s.
bool item_matches(Matcher& m, const char* s, const char* p, const char* ep) {
  charge(m, 1);
  if (s >= m.subject_end) return false;
  int c = byte(*s);
  switch (*p) {
    case '.':
      return true;
    case kEscape:
      return in_class(c, byte(p[1]));
    case '[':
      return in_set(m, c, p, ep - 1);
    default:
      return byte(*p) == c;
  }
}

// "(" (or "()" with kPosition) at s, then the rest of the pattern at p.
const char* open_capture(Matcher& m, const char* s, const char* p, std::ptrdiff_t kind) {
  if (m.captures_used >= kMaxCaptures) luaL_error(m.L, "too many captures");
  m.captures[m.captures_used] = {s, kind};
  ++m.captures_used;
  const char* end = match(m, s, p);
  if (end == nullptr) --m.captures_used;
  return end;
}

// ")" closes the innermost capture still open.
const char* close_capture(Matcher& m, const char* s, const char* p) {
  int level = m.captures_used - 1;
  while (level >= 0 && m.captures[level].length != kOpen) --level;
  if (level < 0) luaL_error(m.L, "invalid pattern capture");
  m.captures[level].length = s - m.captures[level].start;
  const char* end = match(m, s, p);
  if (end == nullptr) m.captures[level].length = kOpen;
  return end;
}

// "%bxy" (p points at x): from an x at s to the y that balances it.
const char* match_balance(Matcher& m, const char* s, const char* p) {
  if (m.pattern_end - p < 2) luaL_error(m.L, "malformed pattern (missing arguments to '%%b')");
  charge(m, 1);
  if (s >= m.subject_end || *s != p[0]) return nullptr;
  int open = 1;
  const char* q = s + 1;
  // y is looked for first, so "%bxx" ends at the next x.
  for (; q < m.subject_end; ++q) {
    if (*q == p[1]) {
      if (--open == 0) break;
    } else if (*q == p[0]) {
      ++open;
    }
  }
  charge(m, static_cast<std::uint64_t>(q - s));
  return q < m.subject_end ? q + 1 : nullptr;
}

// "%1".."%9" (and "%0", an error): the text capture `digit` matched, again.
const char* match_back_reference(Matcher& m, const char* s, int digit) {
  int index = digit - '1';
  if (index < 0 || index >= m.captures_used || m.captures[index].length == kOpen) {
    luaL_error(m.L, "invalid capture index %%%d", index + 1);
  }
  std::ptrdiff_t length = m.captures[index].length;
  // A position capture has no text: a reference to it never matches.
  if (length < 0 || m.subject_end - s < length) return nullptr;
  charge(m, 1 + static_cast<std::uint64_t>(length) / kBytesPerStep);
  if (std::memcmp(m.captures[index].start, s, static_cast<std::size_t>(length)) != 0) {
    return nullptr;
  }
  return s + length;
}

// "item*" at s (or "item+" with one already matched): the longest run first,
// then one fewer at a time.
const char* match_greedy(Matcher& m, const char* s, const char* p, const char* ep) {
  std::ptrdiff_t run = 0;
  while (item_matches(m, s + run, p, ep)) ++run;
  for (; run >= 0; --run) {
    if (const char* end = match(m, s + run, ep + 1)) return end;
  }
  return nullptr;
}

// "item-" at s: the shortest run first, then one more at a time.
const char* match_lazy(Matcher& m, const char* s, const char* p, const char* ep) {
  for (;; ++s) {
    if (const char* end = match(m, s, ep + 1)) return end;
    if (!item_matches(m, s, p, ep)) return nullptr;
  }
}

// Matches the pattern from p on against the subject from s; the end of the
// match, or nullptr. Items that leave nothing to try again on failure loop
// here; the others recurse through match(), which counts the nesting.
const char* match_items(Matcher& m, const char* s, const char* p) {
  while (p != m.pattern_end) {
    switch (*p) {
      case '(':
        if (p + 1 != m.pattern_end && p[1] == ')') return open_capture(m, s, p + 2, kPosition);
        return open_capture(m, s, p + 1, kOpen);
      case ')':
        return close_capture(m, s, p + 1);
      case '$':
        if (p + 1 == m.pattern_end) return s == m.subject_end ? s : nullptr;
        break;  // an ordinary character anywhere else
      case kEscape:
        if (p + 1 == m.pattern_end) break;  // item_end reports it
        if (p[1] == 'b') {
          s = match_balance(m, s, p + 2);
          if (s == nullptr) return nullptr;
          p += 4;
          continue;
        }
        if (p[1] == 'f') {
          p += 2;
          if (p == m.pattern_end || *p != '[') {
            luaL_error(m.L, "missing '[' after '%%f' in pattern");
          }
          const char* ep = item_end(m, p);
          // Outside the subject the frontier sees '\0'.
          int before = s == m.subject ? 0 : byte(s[-1]);
          int after = s < m.subject_end ? byte(*s) : 0;
          if (in_set(m, before, p, ep - 1) || !in_set(m, after, p, ep - 1)) return nullptr;
          p = ep;
          continue;
        }
        if (is_digit(byte(p[1]))) {
          s = match_back_reference(m, s, byte(p[1]));
          if (s == nullptr) return nullptr;
          p += 2;
          continue;
        }
        break;  // a class or an escaped character
      default:
        break;
    }
    // A single-character item, maybe with a quantifier.
    const char* ep = item_end(m, p);
    char quantifier = ep != m.pattern_end ? *ep : '\0';
    if (!item_matches(m, s, p, ep)) {
      if (quantifier != '*' && quantifier != '?' && quantifier != '-') return nullptr;
      p = ep + 1;  // zero repetitions
      continue;
    }
    switch (quantifier) {
      case '?':
        if (const char* end = match(m, s + 1, ep + 1)) return end;
        p = ep + 1;
        continue;
      case '+':
        return match_greedy(m, s + 1, p, ep);
      case '*':
        return match_greedy(m, s, p, ep);
      case '-':
        return match_lazy(m, s, p, ep);
      default:
        ++s;
        p = ep;
        continue;
    }
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------- the work bound

void charge_steps(lua_State* L, std::uint64_t steps) {
  charge_instructions(L, (steps + kStepsPerInstruction - 1) / kStepsPerInstruction);
}

void charge(Matcher& m, std::uint64_t steps) {
  m.steps += steps;
  if (m.steps < kStepsPerCharge) return;
  std::uint64_t instructions = m.steps / kStepsPerInstruction;
  m.steps %= kStepsPerInstruction;
  charge_instructions(m.L, instructions);
}

void settle(Matcher& m) {
  std::uint64_t steps = m.steps;
  m.steps = 0;
  if (steps > 0) charge_steps(m.L, steps);
}

// ---------------------------------------------------------------------------------------- searches

void begin(Matcher& m, lua_State* L, const char* s, std::size_t ls, const char* p, std::size_t lp) {
  m.L = L;
  m.subject = s;
  m.subject_end = s + ls;
  m.pattern_end = p + lp;
  m.steps = 0;
}

void restart(Matcher& m) {
  m.nesting_left = kMaxNesting;
  m.captures_used = 0;
}

// Each call is an attempt that may fail and be tried otherwise: it counts
// toward stock Lua's nesting bound.
const char* match(Matcher& m, const char* s, const char* p) {
  if (m.nesting_left-- == 0) luaL_error(m.L, "pattern too complex");
  charge(m, 1);
  const char* end = match_items(m, s, p);
  ++m.nesting_left;
  return end;
}

// ------------------------------------------------------------------------------ captures as values

Capture capture(Matcher& m, int index, const char* s, const char* e) {
  if (index >= m.captures_used) {
    if (index != 0) luaL_error(m.L, "invalid capture index %%%d", index + 1);
    return {s, e - s};
  }
  if (m.captures[index].length == kOpen) luaL_error(m.L, "unfinished capture");
  return m.captures[index];
}

void push_capture(Matcher& m, int index, const char* s, const char* e) {
  Capture c = capture(m, index, s, e);
  if (c.length == kPosition) {
    lua_pushinteger(m.L, c.start - m.subject + 1);
  } else {
    lua_pushlstring(m.L, c.start, static_cast<std::size_t>(c.length));
  }
}

int push_captures(Matcher& m, const char* s, const char* e) {
  int count = m.captures_used == 0 && s != nullptr ? 1 : m.captures_used;
  luaL_checkstack(m.L, count, "too many captures");
  for (int i = 0; i < count; ++i) push_capture(m, i, s, e);
  return count;
}

}  // namespace dnspc::lua::patterns
