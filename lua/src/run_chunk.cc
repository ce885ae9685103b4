// Loading and running a chunk in the sandbox, and turning Lua's outcome into
// a LuaLoadError with the line split out of the message.
#include <fmt/format.h>

#include <charconv>
#include <string>

#include "sandbox.h"

namespace dnspc::lua {
namespace {

// The message handler of the top-level pcall. A message carries its line
// only when Lua put one there (not for `error(x, 0)` or non-string errors),
// so remember the innermost Lua line on the stack as well. Returns the error
// object unchanged.
int note_error_line(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  auto& budget = *static_cast<SandboxBudget*>(ud);
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar) != 0; ++level) {
    if (lua_getinfo(L, "l", &ar) != 0 && ar.currentline > 0) {
      budget.error_line = ar.currentline;
      break;
    }
  }
  return 1;
}

struct Positioned {
  int line = 0;
  std::string_view text;
};

// Splits "hooks.lua:12: text". Lua names a "=name" chunk by at most
// LUA_IDSIZE - 1 bytes of the name (luaO_chunkid).
Positioned split_position(std::string_view message, std::string_view chunk_name) {
  std::string_view shown = chunk_name.substr(0, LUA_IDSIZE - 1);
  if (message.size() <= shown.size() || message.substr(0, shown.size()) != shown ||
      message[shown.size()] != ':') {
    return {0, message};
  }
  std::string_view rest = message.substr(shown.size() + 1);
  int line = 0;
  auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), line);
  std::string_view after(end, static_cast<std::size_t>(rest.data() + rest.size() - end));
  if (error != std::errc() || line <= 0 || after.substr(0, 2) != ": ") return {0, message};
  return {line, after.substr(2)};
}

// The error object on top of the stack as text, without calling __tostring
// or converting in place (either could run code or allocate outside pcall).
std::string describe_error_object(lua_State* L) {
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      std::size_t length = 0;
      const char* text = lua_tolstring(L, -1, &length);
      return std::string(text, length);
    }
    case LUA_TNUMBER:
      return lua_isinteger(L, -1) != 0 ? fmt::format("{}", lua_tointeger(L, -1))
                                       : fmt::format("{}", lua_tonumber(L, -1));
    default:
      return fmt::format("error object is a {} value", luaL_typename(L, -1));
  }
}

}  // namespace

std::optional<LuaLoadError> Sandbox::run_chunk(std::string_view chunk_name,
                                               std::string_view source) {
  if (!ready_) return memory_error();
  lua_State* L = state_;
  lua_settop(L, 0);
  budget_.error_line = 0;
  lua_pushcfunction(L, note_error_line);
  std::string lua_name = fmt::format("={}", chunk_name);
  int status = luaL_loadbufferx(L, source.data(), source.size(), lua_name.c_str(), "t");
  if (status == LUA_OK) status = lua_pcall(L, 0, 0, 1);
  if (status == LUA_OK) {
    lua_settop(L, 0);
    return std::nullopt;
  }
  std::string message = describe_error_object(L);
  lua_settop(L, 0);

  // Classify by what the sandbox saw, not by the message: code may catch a
  // limit's error with pcall and raise something else.
  if (budget_.instructions_exhausted) {
    return LuaLoadError{
        LuaLoadErrorKind::kInstructionLimit, budget_.stopped_line,
        fmt::format("top-level code ran more than {} instructions (an endless loop?); a hooks "
                    "file should only define functions when loaded",
                    limits_.instructions)};
  }
  if (status == LUA_ERRMEM) return memory_error();
  Positioned positioned = split_position(message, chunk_name);
  // coroutine.wrap puts its call site before an error from inside the
  // coroutine ("hooks.lua:9: hooks.lua:4: boom"): the inner line is the cause.
  for (Positioned inner = split_position(positioned.text, chunk_name); inner.line != 0;
       inner = split_position(positioned.text, chunk_name)) {
    positioned = inner;
  }
  LuaLoadError error;
  error.kind = status == LUA_ERRSYNTAX ? LuaLoadErrorKind::kSyntax : LuaLoadErrorKind::kRuntime;
  error.line = positioned.line != 0 ? positioned.line : budget_.error_line;
  error.message = std::string(positioned.text);
  return error;
}

}  // namespace dnspc::lua
