// The matcher behind the sandbox's string.find, match, gmatch and gsub
// (bounded_patterns.cc): Lua 5.4's patterns (reference manual, 6.4.1) with
// stock Lua's semantics, counting its steps and charging them to the
// sandbox's instruction budget as it goes. Private to lua/.
//
// Errors (a malformed pattern, the budget spent) are Lua errors raised with
// luaL_error, so longjmps: everything here is plain data, and the callers are
// C functions Lua called (see sandbox.h).
#pragma once

#include <lua.hpp>

#include <cstddef>
#include <cstdint>

namespace dnspc::lua::patterns {

constexpr int kMaxCaptures = 32;          // stock Lua's LUA_MAXCAPTURES
constexpr std::ptrdiff_t kOpen = -1;      // a capture whose ')' is not matched yet
constexpr std::ptrdiff_t kPosition = -2;  // "()", which captures a position

// A match step costs about a nanosecond. Bytes compared, copied or searched
// in bulk (memcmp, memcpy, memmem) go about 16 a nanosecond: 16 bytes are a
// step.
constexpr std::uint64_t kBytesPerStep = 16;

struct Capture {
  const char* start;
  std::ptrdiff_t length;  // or kOpen, kPosition
};

// One search of a pattern in a subject. Plain data: it lives in C frames Lua
// may longjmp over, and inside gmatch's userdata.
struct Matcher {
  lua_State* L;
  const char* subject;  // the whole subject: %f looks before the start
  const char* subject_end;
  const char* pattern_end;
  int nesting_left;     // before "pattern too complex"
  int captures_used;    // captures opened on the current path
  std::uint64_t steps;  // not charged yet
  Capture captures[kMaxCaptures];
};

// A search of the pattern [p, p + lp) (without its '^' anchor, which the
// callers handle) in the subject [s, s + ls).
void begin(Matcher& m, lua_State* L, const char* s, std::size_t ls, const char* p, std::size_t lp);

// Before each attempt at a new position: no captures, the full nesting bound.
void restart(Matcher& m);

// Matches the pattern from p on against the subject from s: the end of the
// match, or nullptr. The captures are left in m.
const char* match(Matcher& m, const char* s, const char* p);

// Counts `steps` of work, charged to the budget every 1024 steps.
void charge(Matcher& m, std::uint64_t steps);

// At the end of a call: charges what is left, rounded up to an instruction.
void settle(Matcher& m);

// Charges `steps` of work done outside a Matcher, rounded up.
void charge_steps(lua_State* L, std::uint64_t steps);

// Capture `index` of the match [s, e), which stands for capture 1 when the
// pattern has none. Raises stock Lua's errors for a missing or unfinished one.
Capture capture(Matcher& m, int index, const char* s, const char* e);

// Pushes a capture: its text, or for "()" its position (an integer).
void push_capture(Matcher& m, int index, const char* s, const char* e);

// Pushes every capture, or the whole match [s, e) when there are none (and
// s is not nullptr); returns how many values.
int push_captures(Matcher& m, const char* s, const char* e);

}  // namespace dnspc::lua::patterns
