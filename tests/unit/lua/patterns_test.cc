// The sandbox's own string.find, match, gmatch and gsub (bounded_patterns.cc)
// against stock Lua 5.4's, run side by side on the same code: a hand-written
// corpus of every feature and error, then thousands of random patterns. Then
// the point of having our own: the matcher's work is charged to the
// instruction budget, so a backtracking pattern stops there.
#include <catch2/catch.hpp>

#include <lua.hpp>

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/lua/hook_check.h"
#include "sandbox.h"

using dnspc::lua::check_lua_hooks;
using dnspc::lua::LuaLoadError;
using dnspc::lua::LuaLoadErrorKind;
using dnspc::lua::Sandbox;
using dnspc::lua::SandboxLimits;

namespace {

// Loaded in both states. gm() flattens what string.gmatch yields, with "|"
// after each match; T and F are gsub replacements for the random cases.
constexpr std::string_view kPrelude = R"lua(
function gm(s, p, init)
  local out = {}
  local next_match = string.gmatch(s, p, init)
  for _ = 1, 1000 do
    local r = table.pack(next_match())
    if r[1] == nil then break end
    for i = 1, r.n do out[#out + 1] = r[i] end
    out[#out + 1] = "|"
  end
  return table.unpack(out)
end
T = {a = "A", b = false, c = {}, ["1"] = "one", [1] = "first", [2] = 2.5}
function F(...)
  local first = ...
  if first == "b" then return nil end
  if first == "c" then return false end
  if first == "(" then return {} end
  return select("#", ...) .. ":" .. table.concat({...}, ",")
end
)lua";

// A value as text that tells types apart ("s:'a\0'", "i:3", "f:2.5").
std::string describe(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return "nil";
    case LUA_TBOOLEAN:
      return lua_toboolean(L, index) != 0 ? "true" : "false";
    case LUA_TNUMBER: {
      char text[64];
      if (lua_isinteger(L, index) != 0) {
        std::snprintf(text, sizeof text, "i:%lld", static_cast<long long>(lua_tointeger(L, index)));
      } else {
        std::snprintf(text, sizeof text, "f:%.17g", static_cast<double>(lua_tonumber(L, index)));
      }
      return text;
    }
    case LUA_TSTRING: {
      std::size_t length = 0;
      const char* bytes = lua_tolstring(L, index, &length);
      std::string text = "s:'";
      for (std::size_t i = 0; i < length; ++i) {
        auto c = static_cast<unsigned char>(bytes[i]);
        if (c >= ' ' && c < 127 && c != '\\' && c != '\'') {
          text += static_cast<char>(c);
        } else {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\%03u", c);
          text += escape;
        }
      }
      return text + "'";
    }
    default:
      return luaL_typename(L, index);
  }
}

// Runs `code` as a chunk named "=case" and describes its outcome: the values
// it returned, or its error message.
std::string outcome(lua_State* L, std::string_view code) {
  int base = lua_gettop(L);
  int status = luaL_loadbufferx(L, code.data(), code.size(), "=case", "t");
  if (status == LUA_OK) status = lua_pcall(L, 0, LUA_MULTRET, 0);
  std::string text = status == LUA_OK ? "ok:" : "error: ";
  if (status != LUA_OK) {
    text += lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : describe(L, -1);
  } else {
    for (int i = base + 1; i <= lua_gettop(L); ++i) text += " " + describe(L, i);
  }
  lua_settop(L, base);
  return text;
}

bool is_error(const std::string& outcome) {
  return outcome.starts_with("error: ");
}

// Stock Lua with all its libraries, and the sandbox with our functions.
class SideBySide {
 public:
  SideBySide() : sandbox_(SandboxLimits{}) {
    luaL_openlibs(stock_);
    REQUIRE(sandbox_.state() != nullptr);
    REQUIRE(outcome(stock_, kPrelude) == "ok:");
    REQUIRE(outcome(sandbox_.state(), kPrelude) == "ok:");
  }
  ~SideBySide() { lua_close(stock_); }
  SideBySide(const SideBySide&) = delete;
  SideBySide& operator=(const SideBySide&) = delete;

  std::string stock(std::string_view code) { return outcome(stock_, code); }
  std::string ours(std::string_view code) {
    sandbox_.reset_instruction_budget();
    return outcome(sandbox_.state(), code);
  }

 private:
  lua_State* stock_ = luaL_newstate();
  Sandbox sandbox_;
};

// Every feature of Lua 5.4's patterns and the four functions, each case an
// expression list the chunk returns.
const char* const kCorpus[] = {
    // find: positions, init, plain
    R"lua(string.find("hello world", "o w"))lua",
    R"lua(string.find("hello world", "o", 6))lua",
    R"lua(string.find("hello world", "l+"))lua",
    R"lua(string.find("hello", ""))lua",
    R"lua(string.find("hello", "", 6))lua",
    R"lua(string.find("hello", "", 7))lua",
    R"lua(string.find("hello", "", 10))lua",
    R"lua(string.find("hello", "", -2))lua",
    R"lua(string.find("hello", "l", -100))lua",
    R"lua(string.find("hello", "l", 0))lua",
    R"lua(string.find("hello", "l", -2))lua",
    R"lua(string.find("hello", "h", math.maxinteger))lua",
    R"lua(string.find("hello", "o", math.mininteger))lua",
    R"lua(string.find("hello", "l", "4"))lua",
    R"lua(string.find("hello", "l", 3.0))lua",
    R"lua(string.find("a.b", ".", 1, true))lua",
    R"lua(string.find("a.b", "%."))lua",
    R"lua(string.find("a+b", "+", 1, true))lua",
    R"lua(string.find("a+b", "a+b"))lua",
    R"lua(string.find("aab", "a+b"))lua",
    R"lua(string.find("a)b", "a)"))lua",
    R"lua(string.find("a]b", "]"))lua",
    R"lua(string.find("abc", "[b]", 1, 1))lua",
    R"lua(string.find("abc", "[b]", 1, false))lua",
    R"lua(string.find("a[b]c", "[b]", 1, true))lua",
    R"lua(string.find("abc", "b", nil, true))lua",
    R"lua(string.find("abcabc", "abc", -3, true))lua",
    R"lua(string.find("aaa", "aa", 2, true))lua",
    R"lua(string.find("abc", "", 4, true))lua",
    R"lua(string.find("abc", "", 5, true))lua",
    R"lua(string.find("abc", "abcd", 1, true))lua",
    R"lua(string.find("x\0y", "\0", 1, true))lua",
    R"lua(string.find("abc", "(b)(c)"))lua",
    R"lua(string.find("abc", "()b()"))lua",
    R"lua(("hello"):find("l"))lua",
    R"lua(("hello"):find("(l)(l)"))lua",
    R"lua(string.find("", ""))lua",
    R"lua(string.find("", "a"))lua",
    R"lua(string.find("", ".-"))lua",
    R"lua(string.find(12345, 3))lua",
    R"lua(string.find(string.rep("ab", 10000) .. "c", "c"))lua",
    R"lua(string.find(string.rep("a", 100) .. "b", ".-b"))lua",
    // anchors
    R"lua(string.find("abc", "^b"))lua",
    R"lua(string.find("abc", "^a"))lua",
    R"lua(string.find("abc", "^b", 2))lua",
    R"lua(string.find("abc", "c$"))lua",
    R"lua(string.find("abc", "b$"))lua",
    R"lua(string.find("a$c", "$c"))lua",
    R"lua(string.find("a$c", "a$c"))lua",
    R"lua(string.find("a$$", "$*$"))lua",
    R"lua(string.find("a^c", "a^c"))lua",
    R"lua(string.find("abc", "^"))lua",
    R"lua(string.find("abc", "$"))lua",
    R"lua(string.find("abc", "^$"))lua",
    R"lua(string.find("", "^$"))lua",
    R"lua(string.match("^^a", "^^"))lua",
    // zero bytes
    R"lua(string.find("a\0b", "\0"))lua",
    R"lua(string.find("a\0b", "%z"))lua",
    R"lua(string.find("a\0b", "[\0]"))lua",
    R"lua(string.find("a\0b\0c", "b\0"))lua",
    R"lua(string.match("a\0b", ".(.)."))lua",
    R"lua(string.match("a\0\0b", "\0+"))lua",
    R"lua(string.match("ab\0cd", "[^\0]+", 3))lua",
    R"lua(string.match("a\0b", "%c"))lua",
    R"lua(string.gsub("a\0b\0c", "\0", "Z"))lua",
    R"lua(string.gsub("abc", "b", "\0"))lua",
    R"lua(string.gsub("abc", "b", "%0\0%0"))lua",
    // match, quantifiers
    R"lua(string.match("hello 123 world", "%d+"))lua",
    R"lua(string.match("key = value", "(%w+)%s*=%s*(%w+)"))lua",
    R"lua(string.match("  trim me  ", "^%s*(.-)%s*$"))lua",
    R"lua(string.match("2024-01-15", "(%d+)-(%d+)-(%d+)"))lua",
    R"lua(string.match("hello", ".-"))lua",
    R"lua(string.match("hello", ".-$"))lua",
    R"lua(string.match("hello", "l*"))lua",
    R"lua(string.match("hello", "l-o"))lua",
    R"lua(string.match("hello", "x?h"))lua",
    R"lua(string.match("hello", "he?l"))lua",
    R"lua(string.match("hllo", "he?l"))lua",
    R"lua(string.match("aaa", "a-"))lua",
    R"lua(string.match("aaab", "a-b"))lua",
    R"lua(string.match("aaab", "^a+"))lua",
    R"lua(string.match("aaab", "a*b"))lua",
    R"lua(string.match("b", "a*b"))lua",
    R"lua(string.match("b", "a+b"))lua",
    R"lua(string.match("aaa", "a?a?a?a?aaa"))lua",
    R"lua(string.match("hello", "h", 2))lua",
    R"lua(string.match("hello", "(l)(l)", 2))lua",
    R"lua(string.match("hello", "l", -2))lua",
    R"lua(string.match("[[x]]", "%[(.*)%]"))lua",
    R"lua(string.match("x = 1 -- comment", "^(.-)%s*%-%-"))lua",
    R"lua(string.match("0x1F", "^0[xX](%x+)$"))lua",
    R"lua(string.match("192.168.1.1", "^(%d+)%.(%d+)%.(%d+)%.(%d+)$"))lua",
    R"lua(string.match("www.example.com.", "^([^.]+)%."))lua",
    R"lua(string.match("a+-*?b", "%+%-%*%?"))lua",
    R"lua(string.match("([^$%])", "%(%[%^%$%%%]%)"))lua",
    // captures and positions
    R"lua(string.match("hello", "()ll()"))lua",
    R"lua(string.match("hello", "(h)(e)(l)(l)(o)"))lua",
    R"lua(string.match("hello", "((h)(e))"))lua",
    R"lua(string.match("hello", "(h(e(l)))"))lua",
    R"lua(string.match("hello", "()"))lua",
    R"lua(string.match("hello", "()", 3))lua",
    R"lua(string.match("hello", "o()", -1))lua",
    R"lua(string.match("hello", "(()l)"))lua",
    R"lua(string.match("hello", "(h)(x?)(e)"))lua",
    R"lua(string.match(string.rep("a", 40), string.rep("(a)", 32)))lua",
    R"lua(string.match(string.rep("a", 150), string.rep("a?", 150)))lua",
    R"lua(string.match(string.rep("a", 198), string.rep("a?", 198)))lua",
    R"lua(string.match(string.rep("a", 199), string.rep("a?", 199)))lua",
    // character classes: every byte against every class, inside and outside sets
    R"lua((function()
      local out = {}
      for c in ("acdglpsuwxACDGLPSUWXzZ."):gmatch(".") do
        for _, p in ipairs({"%" .. c, "[%" .. c .. "]", "[^%" .. c .. "]"}) do
          local members = {}
          for b = 0, 255 do
            if string.find(string.char(b), p) then members[#members + 1] = b end
          end
          out[#out + 1] = p .. "=" .. table.concat(members, ",")
        end
      end
      return table.concat(out, " ")
    end)())lua",
    R"lua(string.match("x", "%x"))lua",
    R"lua(string.match("%", "%%"))lua",
    R"lua(string.match("]", "%]"))lua",
    R"lua(string.match("a.b", "%a%.%a"))lua",
    R"lua(string.match("z", "%z"))lua",
    R"lua(string.match("Q", "%Q"))lua",
    R"lua(string.match("\233a", "%a"))lua",
    R"lua(string.match("\200\201x", "[\200-\255]+"))lua",
    R"lua(string.match(" \t\n\v\f\rx", "%s+"))lua",
    R"lua(string.match("id_1 x", "[%w_]+"))lua",
    // sets
    R"lua(string.match("hello", "[aeiou]+"))lua",
    R"lua(string.match("hello", "[^aeiou]+"))lua",
    R"lua(string.match("deadbeefxyz", "[a-f]+"))lua",
    R"lua(string.match("12 34x", "[%d%s]+"))lua",
    R"lua(string.match("foo-bar baz", "[%a-]+"))lua",
    R"lua(string.match("a-a-b", "[a-]+"))lua",
    R"lua(string.match("-a-b", "[-a]+"))lua",
    R"lua(string.match("]]x", "[]]+"))lua",
    R"lua(string.match("ab]c", "[^]]+"))lua",
    R"lua(string.match("a]a]b", "[]a]+"))lua",
    R"lua(string.match("x]", "[%]]"))lua",
    R"lua(string.match("-", "[a-c-e]"))lua",
    R"lua(string.match("d", "[a-c-e]"))lua",
    R"lua(string.match("m", "[z-a]"))lua",
    R"lua(string.match("abc1", "[^%a]"))lua",
    R"lua(string.match("a.b", "[.]"))lua",
    R"lua(string.match("a%b", "[%%]"))lua",
    R"lua(string.match("^", "[%^]"))lua",
    R"lua(string.match("a^", "[a^]+"))lua",
    R"lua(string.match("a\5b", "[\0-\31]"))lua",
    R"lua(string.match("abc", "[ab]*"))lua",
    R"lua(string.match("abc", "[ab]-c"))lua",
    R"lua(string.match("abc", "[ab]?c"))lua",
    R"lua(string.match("a-z", "[%a-%a]+"))lua",
    // %b
    R"lua(string.match("f(a(b)c)d", "%b()"))lua",
    R"lua(string.find("((", "%b()"))lua",
    R"lua(string.find("x)(", "%b()"))lua",
    R"lua(string.match("[[x]]", "%b[]"))lua",
    R"lua(string.gsub("a(b)c(d(e))", "%b()", ""))lua",
    R"lua(string.match("xaxbx", "%bxx"))lua",
    R"lua(string.match("(a)+", "%b()+"))lua",
    R"lua(string.match("(a)(b)", "(%b())*"))lua",
    R"lua(string.match("if (a and (b or c)) then", "if%s*(%b())"))lua",
    // %f
    R"lua(string.find("THE (quick) fox", "%f[%a]%a+"))lua",
    R"lua(string.gsub("THE (quick) fox", "%f[%a]%a+", "X"))lua",
    R"lua(string.find("hello", "%f[%l]"))lua",
    R"lua(string.find("abc", "%f[\0]"))lua",
    R"lua(string.find("abc", "%f[%z]"))lua",
    R"lua(string.find("abc", "%f[^\0]"))lua",
    R"lua(string.find("ab", "%f[a]", 2))lua",
    R"lua(string.find("ab", "%f[b]", 2))lua",
    R"lua(string.gsub("the cat sat", "%f[%w]%w+", function(w) return w:upper() end))lua",
    R"lua(string.gsub("THE (quick) fox", "%f[%a]", "|"))lua",
    R"lua(string.gsub("THE (quick) fox", "%f[%A]", "|"))lua",
    // back-references
    R"lua(string.match('say "hi" now', '(["\'])(.-)%1'))lua",
    R"lua(string.match("abcabc", "(abc)%1"))lua",
    R"lua(string.find("aa bb cd", "(%a)%1"))lua",
    R"lua(string.match("xyzxy", "(x(y))%2"))lua",
    R"lua(string.find("aaa", "()a%1"))lua",
    R"lua(string.match("abab", "(.-)%1$"))lua",
    R"lua(string.gsub("aabbcdd", "(.)%1", "<%1>"))lua",
    // lazy errors: never reached, so no error
    R"lua(string.find("a", "b%"))lua",
    R"lua(string.find("xbc", "a["))lua",
    R"lua(string.find("xbc", "a%1"))lua",
    R"lua(string.find("xbc", "a%f"))lua",
    R"lua(string.find("xbc", "a%b"))lua",
    R"lua(string.find("xbc", "a)"))lua",
    R"lua(string.match("xbc", "a)"))lua",
    R"lua(string.gsub("hello", "(h", "x"))lua",
    R"lua(string.gsub("hello", "(h", "%0"))lua",
    // gsub
    R"lua(string.gsub("hello world", "o", "0"))lua",
    R"lua(string.gsub("hello world", "o", "0", 1))lua",
    R"lua(string.gsub("hello world", "o", "0", 0))lua",
    R"lua(string.gsub("hello world", "o", "0", -1))lua",
    R"lua(string.gsub("hello world", "o", "0", 2.0))lua",
    R"lua(string.gsub("aaa", "a", "b", math.maxinteger))lua",
    R"lua(string.gsub("hello world", "(o)", "[%1]"))lua",
    R"lua(string.gsub("hello world", "o", "%0%0"))lua",
    R"lua(string.gsub("hello world", "(l)(l)", "%2%1"))lua",
    R"lua(string.gsub("hello world from lua", "(%w+)%s*(%w+)", "%2 %1"))lua",
    R"lua(string.gsub("hello", "", "-"))lua",
    R"lua(string.gsub("hello", "x*", "-"))lua",
    R"lua(string.gsub("hello", "l*", "-"))lua",
    R"lua(string.gsub("abc", ".-", "x"))lua",
    R"lua(string.gsub("abc", "b*", "x"))lua",
    R"lua(string.gsub("a,b,,c", ",", ";"))lua",
    R"lua(string.gsub("a,b,,c", "[^,]*", "<%0>"))lua",
    R"lua(string.gsub("a\nb c", "%s", "_"))lua",
    R"lua(string.gsub("abc", "%w", "%%"))lua",
    R"lua(string.gsub("abc", "%w", "%1"))lua",
    R"lua(string.gsub("abc", ".", "%1%1"))lua",
    R"lua(string.gsub("abc", "", "%0"))lua",
    R"lua(string.gsub("abc", "()", "%1"))lua",
    R"lua(string.gsub("abc", "b()", "%1"))lua",
    R"lua(string.gsub("abc", "b", 5))lua",
    R"lua(string.gsub("abc", "b", 5.5))lua",
    R"lua(string.gsub(12, 2, 3))lua",
    R"lua(("x"):gsub(".", "%0%0"))lua",
    R"lua(string.gsub("abc", "^a", "x"))lua",
    R"lua(string.gsub("abc", "^b", "x"))lua",
    R"lua(string.gsub("aaa", "^a", "x"))lua",
    R"lua(string.gsub("abc", "^", ">"))lua",
    R"lua(string.gsub("abc", "$", "<"))lua",
    R"lua(string.gsub("abc", "^$", "x"))lua",
    R"lua(string.gsub("", "^$", "x"))lua",
    R"lua(string.gsub("", "", "x"))lua",
    R"lua(string.gsub("hello world", "%w+", {hello = "HI", world = false}))lua",
    R"lua(string.gsub("hello world", "%w+", {hello = 1.5}))lua",
    R"lua(string.gsub("hello world", "(%w+) (%w+)", {hello = "x"}))lua",
    R"lua(string.gsub("abc", "()", {[1] = "one", [3] = "three"}))lua",
    R"lua(string.gsub("abc", ".", {a = 1, b = 2}))lua",
    R"lua(string.gsub("abc", ".", setmetatable({}, {__index = function(_, k) return k:upper() end})))lua",
    R"lua(string.gsub("hello world", "%w+", function(w) return #w end))lua",
    R"lua(string.gsub("hello world", "%w+", function(w) return nil end))lua",
    R"lua(string.gsub("hello world", "%w+", function(w) return false end))lua",
    R"lua(string.gsub("k=v, a=b", "(%w+)=(%w+)", function(k, v) return v .. "=" .. k end))lua",
    R"lua(string.gsub("abc", "", function(...) return select("#", ...) end))lua",
    R"lua(string.gsub("abc", "()(.)()", function(a, b, c) return a .. b .. c end))lua",
    R"lua(string.gsub("abc", "%w", function(c) return string.gsub(c, ".", "%0%0") end))lua",
    R"lua(pcall(string.find))lua",
    R"lua(pcall(string.gsub, "a", "(", "%1"))lua",
    R"lua(pcall(string.gmatch("a", "%f")))lua",
    // gmatch, with 5.4's init
    R"lua(gm("hello world from lua", "%a+"))lua",
    R"lua(gm("k1=v1, k2=v2", "(%w+)=(%w+)"))lua",
    R"lua(gm("abc", ""))lua",
    R"lua(gm("abc", ".-"))lua",
    R"lua(gm("abc", "b*"))lua",
    R"lua(gm("hello", "()l"))lua",
    R"lua(gm("hello", "l", 4))lua",
    R"lua(gm("hello", "l", -1))lua",
    R"lua(gm("hello", ".", -2))lua",
    R"lua(gm("hello", ".", 0))lua",
    R"lua(gm("hello", ".", -10))lua",
    R"lua(gm("hello", ".", 10))lua",
    R"lua(gm("hello", "", 5))lua",
    R"lua(gm("hello", "", 6))lua",
    R"lua(gm("hello", "", 7))lua",
    R"lua(gm("hello", "", math.maxinteger))lua",
    R"lua(gm("^a^a", "^a"))lua",
    R"lua(gm("one two", "%f[%w]%w+"))lua",
    R"lua(gm("a(b)c(d)", "%b()"))lua",
    R"lua(gm("aXbXc", "[^X]*"))lua",
    R"lua(gm(string.rep("ab", 5), "(a)(b)"))lua",
    R"lua(gm("a\0b\0", "%Z"))lua",
    R"lua(gm("a1b22c333", "%d+()"))lua",
    R"lua(string.gmatch("abc", ".")())lua",
    R"lua((function()
      local next_match = string.gmatch("ab", ".")
      return next_match(), next_match(), next_match(), next_match()
    end)())lua",
    R"lua((function()
      local out = {}
      for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do out[#out + 1] = k .. v end
      return table.concat(out, ",")
    end)())lua",
    R"lua((function()
      local outer = {}
      for word in ("ab cd"):gmatch("%a+") do
        for c in word:gmatch(".") do outer[#outer + 1] = c end
      end
      return table.concat(outer)
    end)())lua",
    R"lua(coroutine.wrap(function()
      local next_match = string.gmatch("a b c", "%a")
      local first = next_match()
      local second = coroutine.wrap(function() return next_match() end)()
      return first, second, next_match()
    end)())lua",
};

// Malformed patterns and bad arguments: stock Lua must raise an error for
// each, and ours the same message.
const char* const kErrorCorpus[] = {
    R"lua(string.find("a", "a%"))lua",
    R"lua(string.find("a%", "a%"))lua",
    R"lua(string.match("a", "%"))lua",
    R"lua(string.match("abc", "[a"))lua",
    R"lua(string.match("abc", "["))lua",
    R"lua(string.match("abc", "[^"))lua",
    R"lua(string.match("abc", "[]"))lua",
    R"lua(string.match("abc", "[^]"))lua",
    R"lua(string.match("abc", "[%"))lua",
    R"lua(string.match("abc", "[a%]"))lua",
    R"lua(string.match("abc", "%f"))lua",
    R"lua(string.match("abc", "%fa"))lua",
    R"lua(string.match("abc", "%f[a"))lua",
    R"lua(string.match("abc", "%b"))lua",
    R"lua(string.match("abc", "%ba"))lua",
    R"lua(string.match("aa", "%1"))lua",
    R"lua(string.match("aa", "(a)%2"))lua",
    R"lua(string.match("aa", "(a%1)"))lua",
    R"lua(string.match("aa", "%0"))lua",
    R"lua(string.match("a", ")"))lua",
    R"lua(string.match("a", "a)"))lua",
    R"lua(string.find("a", ".)"))lua",
    R"lua(string.match("hello", "(h)(e"))lua",
    R"lua(string.find("hello", "(h"))lua",
    R"lua(string.match("abc", "("))lua",
    R"lua(gm("abc", "("))lua",
    R"lua(gm("abc", "["))lua",
    R"lua(gm("abc", "%"))lua",
    R"lua(string.match(string.rep("a", 40), string.rep("(a)", 33)))lua",
    R"lua(string.match(string.rep("a", 200), string.rep("a?", 200)))lua",
    R"lua(string.match(string.rep("a", 201), string.rep("a?", 201)))lua",
    R"lua(string.match(string.rep("a", 300), string.rep("a?", 300)))lua",
    R"lua(string.match("aaab", string.rep("a-", 250) .. "b"))lua",
    R"lua(string.gsub("hello", "(h", "%1"))lua",
    R"lua(string.gsub("hello", "(h", T))lua",
    R"lua(string.gsub("hello", "(h", F))lua",
    R"lua(string.gsub("abc", "%w", "%"))lua",
    R"lua(string.gsub("abc", "%w", "x%"))lua",
    R"lua(string.gsub("abc", "%w", "%x"))lua",
    R"lua(string.gsub("abc", "%w", "%\0"))lua",
    R"lua(string.gsub("abc", "%w", "%2"))lua",
    R"lua(string.gsub("abc", "(%w)", "%2"))lua",
    R"lua(string.gsub("hello world", "%w+", {hello = {}}))lua",
    R"lua(string.gsub("hello world", "%w+", function(w) return true end))lua",
    R"lua(string.gsub("abc", ".", function() error("boom") end))lua",
    R"lua(string.gsub("abc", "b"))lua",
    R"lua(string.gsub("abc", "b", true))lua",
    R"lua(string.gsub("abc", "b", "x", 1.5))lua",
    R"lua(string.gsub("abc", "b", nil, "x"))lua",
    R"lua(string.gsub("a"))lua",
    R"lua(string.find())lua",
    R"lua(string.find("a"))lua",
    R"lua(string.find("a", {}))lua",
    R"lua(string.find("a", "a", 1.5))lua",
    R"lua(string.match("a", "a", "x"))lua",
    R"lua(string.gmatch())lua",
    R"lua(string.gmatch("a", "a", {}))lua",
    R"lua(("x"):find())lua",
    R"lua(("x").find())lua",
};

// ------------------------------------------------------------ random cases

// xorshift64*: the same cases on every platform.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }
  char from(std::string_view options) {
    return options[static_cast<std::size_t>(below(static_cast<int>(options.size())))];
  }
  template <std::size_t N>
  const char* pick(const char* const (&options)[N]) {
    return options[below(static_cast<int>(N))];
  }

 private:
  std::uint64_t state_;
};

// The subjects' alphabet is small so that patterns match often.
constexpr std::string_view kSubjectBytes{"aaabbc(1) A.-\0", 14};
constexpr std::string_view kLiteralBytes{"aabc1A \0", 8};
constexpr std::string_view kClassLetters = "acdglpsuwxACDGLPSUWXz";
constexpr std::string_view kEscapedSpecials = ".()%[]-*+?^$";

std::string random_set(Random& r) {
  std::string set = "[";
  if (r.chance(30)) set += '^';
  if (r.chance(10)) set += ']';
  for (int members = 1 + r.below(3); members > 0; --members) {
    switch (r.below(5)) {
      case 0:
        set += r.from(kLiteralBytes);
        break;
      case 1:
        set += r.pick({"a-b", "a-c", "0-9", "b-a", "(-)", "a-"});
        break;
      case 2:
        set += '%';
        set += r.from(kClassLetters);
        break;
      case 3:
        set += '%';
        set += r.from(kEscapedSpecials);
        break;
      default:
        set += r.from("-^.(");
        break;
    }
  }
  if (!r.chance(3)) set += ']';
  return set;
}

std::string random_single(Random& r) {
  switch (r.below(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return std::string(1, r.from(kLiteralBytes));
    case 4:
      return ".";
    case 5:
    case 6:
      return std::string("%") + r.from(kClassLetters);
    case 7:
      return std::string("%") + r.from(kEscapedSpecials);
    default:
      return random_set(r);
  }
}

std::string random_items(Random& r, int depth) {
  std::string p;
  for (int items = r.below(5); items > 0; --items) {
    int kind = r.below(40);
    if (kind < 22) {
      p += random_single(r);
      if (r.chance(40)) p += r.from("*+-?");
    } else if (kind < 28) {
      if (depth < 3) p += "(" + random_items(r, depth + 1) + (r.chance(95) ? ")" : "");
    } else if (kind < 30) {
      p += "()";
    } else if (kind < 32) {
      p += std::string("%b") + r.pick({"()", "ab", "aa", "(", ")("});
    } else if (kind < 34) {
      p += "%f" + (r.chance(90) ? random_set(r) : std::string("a"));
    } else if (kind < 37) {
      p += '%';
      p += static_cast<char>('0' + r.below(4));
    } else if (kind < 38) {
      p += '$';
    } else if (kind < 39) {
      p += ')';
    } else {
      p += '%';
    }
  }
  return p;
}

std::string random_pattern(Random& r) {
  return (r.chance(25) ? "^" : "") + random_items(r, 0) + (r.chance(20) ? "$" : "");
}

std::string random_subject(Random& r) {
  std::string s;
  for (int length = r.below(11); length > 0; --length) s += r.from(kSubjectBytes);
  return s;
}

// A Lua string literal for any bytes.
std::string quoted(std::string_view bytes) {
  std::string literal = "\"";
  for (char c : bytes) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ') {
      literal += c;
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\%03u", static_cast<unsigned char>(c));
      literal += escape;
    }
  }
  return literal + "\"";
}

std::string random_call(Random& r, const std::string& s, const std::string& p, int function) {
  static const char* const kInits[] = {"nil", "1", "2",  "3",  "-1", "-3",
                                       "0",   "5", "11", "20", "-20"};
  static const char* const kReplacements[] = {
      R"("x")",       R"("%0")", R"("<%1>")", R"("%2")", R"("%%")", R"("%")",
      R"("[%1|%2]")", R"("%a")", "T",         "F",       "7",
  };
  std::string subject = quoted(s);
  std::string pattern = quoted(p);
  switch (function) {
    case 0:
      return "string.find(" + subject + ", " + pattern + ", " + r.pick(kInits) + ", " +
             r.pick({"nil", "nil", "true", "false"}) + ")";
    case 1:
      return "string.match(" + subject + ", " + pattern + ", " + r.pick(kInits) + ")";
    case 2:
      return "gm(" + subject + ", " + pattern + ", " + r.pick(kInits) + ")";
    default:
      return "string.gsub(" + subject + ", " + pattern + ", " + r.pick(kReplacements) + ", " +
             r.pick({"nil", "nil", "nil", "0", "1", "2", "-1"}) + ")";
  }
}

// -------------------------------------------------------------- the bound

struct BoundedRun {
  std::string outcome;
  bool exhausted = false;
};

BoundedRun run_with_budget(std::string_view code, std::uint64_t instructions) {
  SandboxLimits limits;
  limits.instructions = instructions;
  Sandbox sandbox(limits);
  REQUIRE(sandbox.state() != nullptr);
  BoundedRun run;
  run.outcome = outcome(sandbox.state(), code);
  run.exhausted = sandbox.instructions_exhausted();
  return run;
}

}  // namespace

TEST_CASE("our pattern functions give stock Lua's results", "[lua][patterns]") {
  SideBySide lua;
  int errors = 0;
  for (const char* expression : kCorpus) {
    std::string code = std::string("return ") + expression;
    std::string stock = lua.stock(code);
    INFO(code);
    CHECK(lua.ours(code) == stock);
    if (is_error(stock)) ++errors;
  }
  // The corpus above is meant to succeed, apart from its functions' own errors.
  CHECK(errors == 0);
  CHECK(std::size(kCorpus) > 200);
}

TEST_CASE("our pattern functions raise stock Lua's errors", "[lua][patterns]") {
  SideBySide lua;
  for (const char* expression : kErrorCorpus) {
    std::string code = std::string("return ") + expression;
    std::string stock = lua.stock(code);
    INFO(code);
    CHECK(is_error(stock));
    CHECK(lua.ours(code) == stock);
  }
}

TEST_CASE("random patterns and subjects give stock Lua's results", "[lua][patterns]") {
  SideBySide lua;
  Random r(20240615);
  constexpr int kCases = 10000;
  int matched = 0;
  int failed = 0;
  int errors = 0;
  int differences = 0;
  for (int i = 0; i < kCases && differences < 10; ++i) {
    std::string subject = random_subject(r);
    std::string pattern = random_pattern(r);
    for (int function = 0; function < 4; ++function) {
      std::string code = "return " + random_call(r, subject, pattern, function);
      std::string stock = lua.stock(code);
      std::string ours = lua.ours(code);
      if (ours != stock) {
        ++differences;
        INFO(code);
        CHECK(ours == stock);
      }
      if (is_error(stock)) {
        ++errors;
      } else if (stock == "ok: nil" || stock == "ok:") {
        ++failed;
      } else {
        ++matched;
      }
    }
  }
  CHECK(differences == 0);
  // The generator stays useful: mostly valid patterns, many of which match.
  INFO("matched " << matched << ", no match " << failed << ", errors " << errors);
  CHECK(matched > kCases);
  CHECK(errors > kCases / 20);
  CHECK(errors < kCases);
}

TEST_CASE("a backtracking pattern stops at the instruction budget", "[lua][patterns]") {
  const char* const kPathological[] = {
      R"lua(return string.find(string.rep("a", 3000), ".-.-.-.-b"))lua",
      R"lua(return (string.rep("a", 3000)):find(".-.-.-.-b"))lua",
      R"lua(return string.match(string.rep("a", 3000), ".-.-.-.-b"))lua",
      R"lua(return string.gsub(string.rep("a", 3000), ".-.-.-.-b", ""))lua",
      R"lua(for m in string.gmatch(string.rep("a", 3000), ".-.-.-.-b") do end)lua",
      R"lua(return string.find(string.rep("a", 3000), "(.-)(.-)(.-)%3b"))lua",
      R"lua(return string.find(string.rep("a", 3000), ".*.*.*.*b"))lua",
  };
  for (const char* code : kPathological) {
    INFO(code);
    BoundedRun run = run_with_budget(code, 1'000'000);
    CHECK_THAT(run.outcome, Catch::Contains("instruction limit reached"));
    CHECK(run.exhausted);
  }
}

TEST_CASE("every kind of matching work is charged", "[lua][patterns]") {
  const char* const kHeavy[] = {
      // %b scans to the end from every '('
      R"lua(return string.find(string.rep("(", 20000), "%b()"))lua",
      // a long set, looked through at every position
      R"lua(return string.find(string.rep("a", 20000), "[" .. string.rep("b", 5000) .. "]"))lua",
      // a long replacement of empty captures, at every position
      R"lua(return string.gsub(string.rep("a", 100000), "(x*)", string.rep("%1", 10000)))lua",
      // plain find scans the subject
      R"lua(return string.find(string.rep("a", 1 << 24), "b", 1, true))lua",
  };
  for (const char* code : kHeavy) {
    INFO(code);
    BoundedRun run = run_with_budget(code, 10'000);
    CHECK_THAT(run.outcome, Catch::Contains("instruction limit reached"));
    CHECK(run.exhausted);
  }
}

TEST_CASE("catching the pattern budget's error does not escape it", "[lua][patterns]") {
  SandboxLimits limits;
  limits.instructions = 1'000'000;
  auto result = check_lua_hooks("hooks.lua",
                                "local s = string.rep('a', 3000)\n"
                                "local ok = pcall(string.find, s, '.-.-.-.-b')\n"
                                "function after() end\n",
                                limits);
  REQUIRE(std::holds_alternative<LuaLoadError>(result));
  const auto& error = std::get<LuaLoadError>(result);
  CHECK(error.kind == LuaLoadErrorKind::kInstructionLimit);
  CHECK(error.line == 2);
}

TEST_CASE("ordinary pattern use stays cheap", "[lua][patterns]") {
  BoundedRun one =
      run_with_budget(R"lua(return string.find("www.example.com", "^(%w+)%.(%w+)%.com$"))lua", 100);
  CHECK(one.outcome == "ok: i:1 i:15 s:'www' s:'example'");
  CHECK_FALSE(one.exhausted);

  // A thousand small calls on a short name: a few dozen instructions each
  // (2 match steps are charged as one).
  BoundedRun many = run_with_budget(R"lua(
    local n = 0
    for i = 1, 1000 do
      if ("www.example.com"):find("%.com$") then n = n + 1 end
    end
    return n)lua",
                                    60'000);
  CHECK(many.outcome == "ok: i:1000");
  CHECK_FALSE(many.exhausted);
}
