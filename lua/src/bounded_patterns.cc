// Lua 5.4's pattern functions, written again so that their work counts.
//
// The count hook bounds VM instructions, but a call into a C function is one
// instruction however long it runs, and a backtracking pattern is polynomial:
// in stock Lua, string.find(string.rep("a", 400), ".-.-.-b") holds its thread
// for 6 seconds (measured), and each further ".-" multiplies that by the
// subject's length. Ours run on pattern_matcher.h, which counts every
// elementary step and charges it to the sandbox's budget as it goes, so such
// a call stops with "instruction limit reached" like a loop would.
//
// What the functions do around the matcher (init positions, plain find,
// gmatch's and gsub's handling of empty matches, replacements) is stock Lua
// 5.4's too (reference manual, 6.4), errors and their order included.
#include "bounded_patterns.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "pattern_matcher.h"

namespace dnspc::lua {
namespace {

// A leading '^' anchors the match at the start; it is not part of the pattern.
bool strip_anchor(const char*& p, size_t& lp) {
  if (lp == 0 || *p != '^') return false;
  ++p;
  --lp;
  return true;
}

using patterns::begin;
using patterns::Capture;
using patterns::capture;
using patterns::charge;
using patterns::charge_steps;
using patterns::kBytesPerStep;
using patterns::kPosition;
using patterns::match;
using patterns::Matcher;
using patterns::push_capture;
using patterns::push_captures;
using patterns::restart;
using patterns::settle;

constexpr char kEscape = '%';

// A 1-based position argument (negative counts from the end) as an offset;
// past the end stays past the end.
std::size_t start_offset(lua_Integer position, std::size_t length) {
  if (position > 0) return static_cast<std::size_t>(position) - 1;
  if (position == 0 || position < -static_cast<lua_Integer>(length)) return 0;
  return length - static_cast<std::size_t>(-position);
}

// string.find treats a pattern without these as plain text, as stock Lua does
// (so "a)" is found, where string.match reports the unbalanced ')').
bool has_specials(const char* p, std::size_t lp) {
  return std::string_view(p, lp).find_first_of("^$*+?.([%-") != std::string_view::npos;
}

int find_plain(lua_State* L, const char* s, std::size_t ls, std::size_t init, const char* p,
               std::size_t lp) {
  const char* from = s + init;
  std::size_t left = ls - init;
  const char* found = nullptr;
  if (lp == 0) {
    found = from;
  } else if (lp <= left) {
    // glibc's memmem takes linear time, whatever the text.
    found = static_cast<const char*>(memmem(from, left, p, lp));
  }
  std::size_t scanned = found != nullptr ? static_cast<std::size_t>(found - from) + lp : left;
  charge_steps(L, 1 + scanned / kBytesPerStep);
  if (found == nullptr) {
    luaL_pushfail(L);
    return 1;
  }
  lua_pushinteger(L, found - s + 1);
  lua_pushinteger(L, found - s + static_cast<lua_Integer>(lp));
  return 2;
}

// string.find (positions, then captures) and string.match (captures).
int find_or_match(lua_State* L, bool find) {
  std::size_t ls = 0;
  std::size_t lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  std::size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) != 0 || !has_specials(p, lp))) {
    return find_plain(L, s, ls, init, p, lp);
  }
  const bool anchored = strip_anchor(p, lp);
  Matcher m;
  begin(m, L, s, ls, p, lp);
  const char* start = s + init;
  do {
    restart(m);
    if (const char* end = match(m, start, p)) {
      settle(m);
      if (!find) return push_captures(m, start, end);
      lua_pushinteger(L, start - s + 1);
      lua_pushinteger(L, end - s);
      return 2 + push_captures(m, nullptr, nullptr);
    }
  } while (start++ < m.subject_end && !anchored);
  settle(m);
  luaL_pushfail(L);
  return 1;
}

int string_find(lua_State* L) {
  return find_or_match(L, true);
}

int string_match(lua_State* L) {
  return find_or_match(L, false);
}

struct Gmatch {
  const char* next;        // where the next search starts
  const char* last_match;  // where the previous match ended: no empty match there
  const char* pattern;
  Matcher m;
};

int gmatch_next(lua_State* L) {
  auto* g = static_cast<Gmatch*>(lua_touserdata(L, lua_upvalueindex(3)));
  g->m.L = L;  // the iterator may run in another coroutine
  for (const char* start = g->next; start <= g->m.subject_end; ++start) {
    restart(g->m);
    const char* end = match(g->m, start, g->pattern);
    if (end != nullptr && end != g->last_match) {
      g->next = g->last_match = end;
      settle(g->m);
      return push_captures(g->m, start, end);
    }
  }
  settle(g->m);
  return 0;
}

// A '^' in gmatch's pattern is an ordinary character (an anchor would stop
// the iteration), as in stock Lua.
int string_gmatch(lua_State* L) {
  std::size_t ls = 0;
  std::size_t lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  std::size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
  if (init > ls) init = ls + 1;  // no search at all, without overflowing s + init
  lua_settop(L, 2);              // the closure keeps both strings alive
  auto* g = static_cast<Gmatch*>(lua_newuserdatauv(L, sizeof(Gmatch), 0));
  begin(g->m, L, s, ls, p, lp);
  g->next = s + init;
  g->last_match = nullptr;
  g->pattern = p;
  lua_pushcclosure(L, gmatch_next, 3);
  return 1;
}

// Appends gsub's replacement string (argument 3) for the match [s, e):
// "%0" is the match, "%1".."%9" its captures, "%%" a '%'.
void add_replacement_text(Matcher& m, luaL_Buffer& b, const char* s, const char* e) {
  std::size_t length = 0;
  const char* r = lua_tolstring(m.L, 3, &length);
  const char* r_end = r + length;
  for (;;) {
    auto* escape =
        static_cast<const char*>(std::memchr(r, kEscape, static_cast<std::size_t>(r_end - r)));
    const char* literal_end = escape != nullptr ? escape : r_end;
    luaL_addlstring(&b, r, static_cast<std::size_t>(literal_end - r));
    charge(m, 1 + static_cast<std::uint64_t>(literal_end - r) / kBytesPerStep);
    if (escape == nullptr) return;
    char c = escape + 1 != r_end ? escape[1] : '\0';
    if (c == kEscape) {
      luaL_addchar(&b, kEscape);
    } else if (c == '0') {
      luaL_addlstring(&b, s, static_cast<std::size_t>(e - s));
    } else if (c >= '1' && c <= '9') {
      Capture captured = capture(m, c - '1', s, e);
      if (captured.length == kPosition) {
        lua_pushinteger(m.L, captured.start - m.subject + 1);
        luaL_addvalue(&b);
      } else {
        luaL_addlstring(&b, captured.start, static_cast<std::size_t>(captured.length));
      }
    } else {
      luaL_error(m.L, "invalid use of '%c' in replacement string", kEscape);
    }
    r = escape + 2;
  }
}

// Appends what replaces the match [s, e); false when a function or table
// said to keep it (nil or false).
bool add_replacement(Matcher& m, luaL_Buffer& b, const char* s, const char* e, int repl_type) {
  lua_State* L = m.L;
  if (repl_type == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int count = push_captures(m, s, e);
    lua_call(L, count, 1);
  } else if (repl_type == LUA_TTABLE) {
    push_capture(m, 0, s, e);
    lua_gettable(L, 3);
  } else {
    add_replacement_text(m, b, s, e);
    return true;
  }
  if (lua_toboolean(L, -1) == 0) {
    lua_pop(L, 1);
    luaL_addlstring(&b, s, static_cast<std::size_t>(e - s));
    return false;
  }
  if (lua_isstring(L, -1) == 0) {
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  }
  luaL_addvalue(&b);
  return true;
}

int string_gsub(lua_State* L) {
  std::size_t ls = 0;
  std::size_t lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  int repl_type = lua_type(L, 3);
  lua_Integer max_count = luaL_optinteger(L, 4, static_cast<lua_Integer>(ls) + 1);
  luaL_argexpected(L,
                   repl_type == LUA_TNUMBER || repl_type == LUA_TSTRING ||
                       repl_type == LUA_TFUNCTION || repl_type == LUA_TTABLE,
                   3, "string/function/table");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const bool anchored = strip_anchor(p, lp);
  Matcher m;
  begin(m, L, s, ls, p, lp);
  const char* rest = s;  // not copied or replaced yet
  const char* last_match = nullptr;
  lua_Integer count = 0;
  bool changed = false;
  while (count < max_count) {
    restart(m);
    const char* end = match(m, rest, p);
    if (end != nullptr && end != last_match) {  // no empty match right after a match
      ++count;
      if (add_replacement(m, b, rest, end, repl_type)) changed = true;
      rest = last_match = end;
    } else if (rest < m.subject_end) {
      luaL_addchar(&b, *rest++);
    } else {
      break;
    }
    if (anchored) break;
  }
  settle(m);
  if (changed) {
    luaL_addlstring(&b, rest, static_cast<std::size_t>(m.subject_end - rest));
    luaL_pushresult(&b);
  } else {
    lua_pushvalue(L, 1);  // the subject itself, unchanged
  }
  lua_pushinteger(L, count);
  return 2;
}

}  // namespace

void install_bounded_patterns(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"find", string_find}, {"match", string_match}, {"gmatch", string_gmatch},
      {"gsub", string_gsub}, {nullptr, nullptr},
  };
  lua_getglobal(L, LUA_STRLIBNAME);
  luaL_setfuncs(L, kFunctions, 0);
  lua_pop(L, 1);
}

}  // namespace dnspc::lua
