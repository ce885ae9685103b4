// The console's Lua state: each line a coroutine of the sandboxed state, so
// that a function answering later (reload) can suspend it.
//
// As in the sandbox, Lua errors are longjmps: the C functions Lua calls keep
// no C++ object with a destructor alive where Lua may raise an error; they
// do their C++ work in Impl's member functions, which return before anything
// is pushed.
#include "dnspc/lua/console_lua.h"

#include <fmt/format.h>

#include <algorithm>

#include "sandbox.h"

namespace dnspc::lua {

namespace {
constexpr std::size_t kMaxOutput = std::size_t{64}
                                   << 20;  // a line's output; past it the line fails
}  // namespace

struct ConsoleLua::Impl {
  SandboxLimits limits;
  Sandbox sandbox;
  std::vector<ConsoleFunction> functions;
  lua_State* thread = nullptr;  // the running line's coroutine
  int thread_ref = LUA_NOREF;
  std::function<void(ConsoleLineResult)> done;
  std::string output;
  std::string call_error;  // the error the current call raises in Lua
  bool waiting = false;    // the line is suspended in a function answering later
  bool answered = false;   // the current call answered during invoke()
  // False once the state is gone: a function's answer that comes later
  // (a reload's) then finds nobody.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  explicit Impl(const SandboxLimits& l) : limits(l), sandbox(l) {}

  // Reads the arguments, calls the function; true when it answered at once.
  bool invoke(lua_State* L, int index);
  void on_answer(ConsoleCall call);
  void append(std::string_view text) {
    if (output.size() + text.size() > kMaxOutput) {
      if (call_error.empty())
        call_error = fmt::format("the line's output passed {} MiB", kMaxOutput >> 20);
      return;
    }
    output.append(text);
  }
  void start(std::string_view line);
  void resume();
  void finish(bool ok, std::string error);
  std::string describe_error(lua_State* L, int status) const;
};

namespace {

// Numbers, strings, booleans and nil as text; anything else by its type.
// Allocates nothing in Lua (no lua_tolstring on a number).
std::string value_text(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return "nil";
    case LUA_TBOOLEAN:
      return lua_toboolean(L, index) ? "true" : "false";
    case LUA_TNUMBER:
      return lua_isinteger(L, index) ? fmt::format("{}", lua_tointeger(L, index))
                                     : fmt::format("{}", lua_tonumber(L, index));
    case LUA_TSTRING: {
      std::size_t n = 0;
      const char* s = lua_tolstring(L, index, &n);
      return std::string(s, n);
    }
    default:
      return fmt::format("{}: {}", luaL_typename(L, index), lua_topointer(L, index));
  }
}

ConsoleLua::Impl* impl_of(lua_State* L) {
  return static_cast<ConsoleLua::Impl*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// After a function answered: raise its error, if any, in the caller.
int after_call(lua_State* L, int, lua_KContext) {
  ConsoleLua::Impl* impl = impl_of(L);
  if (impl->call_error.empty()) return 0;
  lua_pushlstring(L, impl->call_error.data(), impl->call_error.size());
  impl->call_error.clear();
  return lua_error(L);
}

int call_function(lua_State* L) {
  ConsoleLua::Impl* impl = impl_of(L);
  luaL_checkstack(L, 4, nullptr);
  if (impl->invoke(L, static_cast<int>(lua_tointeger(L, lua_upvalueindex(2)))))
    return after_call(L, 0, 0);
  // The function answers later: suspend the line until it does.
  return lua_yieldk(L, 0, 0, after_call);
}

// print(...): the values, tab-separated, as a line of the output.
int console_print(lua_State* L) {
  ConsoleLua::Impl* impl = static_cast<ConsoleLua::Impl*>(lua_touserdata(L, lua_upvalueindex(1)));
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    impl->append(value_text(L, i));  // a temporary only: gone before any Lua call
    impl->append(i == n ? "\n" : "\t");
  }
  if (n == 0) impl->append("\n");
  if (!impl->call_error.empty()) return after_call(L, 0, 0);
  return 0;
}

}  // namespace

bool ConsoleLua::Impl::invoke(lua_State* L, int index) {
  call_error.clear();
  if (L != thread || waiting) {
    call_error = "the console's functions run in the line itself, not inside a coroutine";
    return true;
  }
  ConsoleArgs args;
  const int n = lua_gettop(L);
  for (int i = 1; i <= n; ++i) {
    ConsoleArg a;
    switch (lua_type(L, i)) {
      case LUA_TNIL:
        a.kind = ConsoleArg::Kind::kNil;
        break;
      case LUA_TBOOLEAN:
        a.kind = ConsoleArg::Kind::kBoolean;
        break;
      case LUA_TNUMBER:
        a.kind = ConsoleArg::Kind::kNumber;
        break;
      case LUA_TSTRING:
        a.kind = ConsoleArg::Kind::kString;
        break;
      case LUA_TTABLE:
        a.kind = ConsoleArg::Kind::kTable;
        break;
      default:
        a.kind = ConsoleArg::Kind::kOther;
        break;
    }
    if (a.kind == ConsoleArg::Kind::kTable) {
      lua_pushnil(L);
      while (lua_next(L, i) != 0) {  // raw traversal: no metamethod runs
        if (lua_type(L, -2) == LUA_TSTRING)
          a.fields.emplace_back(value_text(L, -2), value_text(L, -1));
        lua_pop(L, 1);
      }
    } else if (a.kind != ConsoleArg::Kind::kOther) {
      a.text = value_text(L, i);
    }
    args.push_back(std::move(a));
  }
  lua_settop(L, 0);
  answered = false;
  functions[static_cast<std::size_t>(index)](args, [this, alive = alive](ConsoleCall c) {
    if (*alive) on_answer(std::move(c));
  });
  if (answered) return true;
  waiting = true;
  return false;
}

void ConsoleLua::Impl::on_answer(ConsoleCall call) {
  append(call.output);
  if (!call.error.empty()) call_error = std::move(call.error);
  if (!waiting) {
    answered = true;
    return;
  }
  waiting = false;
  resume();
}

void ConsoleLua::Impl::start(std::string_view line) {
  lua_State* main = sandbox.state();
  output.clear();
  call_error.clear();
  waiting = false;
  if (!lua_checkstack(main, 2)) return finish(false, "the console's Lua state is out of stack");
  // The coroutine, made under protection: out of memory is an error here.
  lua_pushcfunction(main, [](lua_State* S) {
    lua_newthread(S);
    lua_pushinteger(S, luaL_ref(S, LUA_REGISTRYINDEX));
    return 1;
  });
  if (lua_pcall(main, 0, 1, 0) != LUA_OK) {
    lua_settop(main, 0);
    return finish(false, describe_error(main, LUA_ERRMEM));
  }
  thread_ref = static_cast<int>(lua_tointeger(main, -1));
  lua_settop(main, 0);
  lua_rawgeti(main, LUA_REGISTRYINDEX, thread_ref);
  thread = lua_tothread(main, -1);
  lua_settop(main, 0);
  sandbox.reset_instruction_budget();
  // An expression shows its values; a statement runs as it is.
  const std::string as_expression = fmt::format("return {};", line);
  int status =
      luaL_loadbufferx(thread, as_expression.data(), as_expression.size(), "=console", "t");
  if (status != LUA_OK) {
    lua_settop(thread, 0);
    status = luaL_loadbufferx(thread, line.data(), line.size(), "=console", "t");
  }
  if (status != LUA_OK) return finish(false, describe_error(thread, status));
  resume();
}

void ConsoleLua::Impl::resume() {
  int results = 0;
  const int status = lua_resume(thread, nullptr, 0, &results);
  if (status == LUA_YIELD) {
    if (waiting) return;  // a function answers later
    return finish(false, "coroutine.yield outside a coroutine");
  }
  if (status != LUA_OK) return finish(false, describe_error(thread, status));
  for (int i = 1; i <= results; ++i) {
    append(value_text(thread, i));
    append(i == results ? "\n" : "\t");
  }
  finish(call_error.empty(), call_error);
}

std::string ConsoleLua::Impl::describe_error(lua_State* L, int status) const {
  if (sandbox.instructions_exhausted()) {
    return fmt::format(
        "the line ran more than {} Lua instructions (an endless loop?) and was stopped",
        limits.instructions);
  }
  if (status == LUA_ERRMEM) {
    return fmt::format("not enough memory: a console session's Lua state may use {} MiB",
                       limits.memory_bytes >> 20);
  }
  if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    std::string text = lua_type(L, -1) == LUA_TSTRING ? value_text(L, -1) : value_text(L, -1);
    return text;
  }
  return fmt::format("error object is a {} value", luaL_typename(L, -1));
}

void ConsoleLua::Impl::finish(bool ok, std::string error) {
  lua_State* main = sandbox.state();
  if (thread_ref != LUA_NOREF && lua_checkstack(main, 2)) {
    // Under protection: the registry's free list may need memory.
    lua_pushcfunction(main, [](lua_State* S) {
      luaL_unref(S, LUA_REGISTRYINDEX, static_cast<int>(lua_tointeger(S, 1)));
      return 0;
    });
    lua_pushinteger(main, thread_ref);
    if (lua_pcall(main, 1, 0, 0) != LUA_OK) lua_settop(main, 0);
  }
  thread_ref = LUA_NOREF;
  thread = nullptr;
  waiting = false;
  ConsoleLineResult r;
  r.ok = ok;
  r.output = std::move(output);
  r.error = std::move(error);
  output.clear();
  call_error.clear();
  auto callback = std::move(done);
  done = nullptr;
  callback(std::move(r));
}

ConsoleLua::ConsoleLua(const SandboxLimits& limits) : impl_(std::make_unique<Impl>(limits)) {
  lua_State* L = impl_->sandbox.state();
  if (!L) return;
  lua_pushlightuserdata(L, impl_.get());
  lua_pushcclosure(L, console_print, 1);
  lua_setglobal(L, "print");
}

ConsoleLua::~ConsoleLua() {
  *impl_->alive = false;
}

void ConsoleLua::add_function(const std::string& name, ConsoleFunction function) {
  lua_State* L = impl_->sandbox.state();
  if (!L) return;
  impl_->functions.push_back(std::move(function));
  lua_pushlightuserdata(L, impl_.get());
  lua_pushinteger(L, static_cast<lua_Integer>(impl_->functions.size() - 1));
  lua_pushcclosure(L, call_function, 2);
  lua_setglobal(L, name.c_str());
}

void ConsoleLua::run_line(std::string_view line, std::function<void(ConsoleLineResult)> done) {
  if (!impl_->sandbox.state()) {
    return done({false, "", "the console's Lua state did not fit in its memory limit"});
  }
  if (impl_->done) return done({false, "", "another line is still running"});
  impl_->done = std::move(done);
  impl_->start(line);
}

bool ConsoleLua::busy() const {
  return static_cast<bool>(impl_->done);
}

namespace {

std::vector<std::string> string_keys(lua_State* L) {
  std::vector<std::string> out;
  if (!lua_checkstack(L, 3)) return out;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      std::size_t n = 0;
      const char* s = lua_tolstring(L, -2, &n);
      out.emplace_back(s, n);
    }
    lua_pop(L, 1);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> ConsoleLua::global_names() const {
  lua_State* L = impl_->sandbox.state();
  if (!L || !lua_checkstack(L, 1)) return {};
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  auto out = string_keys(L);
  lua_pop(L, 1);
  return out;
}

std::vector<std::string> ConsoleLua::field_names(const std::string& table) const {
  lua_State* L = impl_->sandbox.state();
  if (!L || !lua_checkstack(L, 4)) return {};
  // Found by walking the globals: pushing the name would allocate outside
  // any protection.
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  std::vector<std::string> out;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    std::size_t n = 0;
    const char* s = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &n) : nullptr;
    if (s && std::string_view(s, n) == table && lua_type(L, -1) == LUA_TTABLE) {
      out = string_keys(L);
      lua_pop(L, 2);
      break;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return out;
}

}  // namespace dnspc::lua
