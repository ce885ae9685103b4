// The hook runtime: one sandboxed Lua state, the policy's functions bound to
// hook indexes, and the call protocol every hook kind shares (budget,
// protected call, verdict reading, counters, rate-limited log, rebuilding a
// state that ran out of memory).
#include "dnspc/lua/hook_runtime.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>

#include "hook_objects.h"
#include "hook_verdicts.h"
#include "sandbox.h"

namespace dnspc::lua {
namespace {

enum class CallKind : uint8_t { kPredicate, kAction, kResponse, kPick };

const char* fallback_text(CallKind kind) {
  switch (kind) {
    case CallKind::kPredicate: return "the condition is false";
    case CallKind::kAction: return "the rule counts as not matched";
    case CallKind::kResponse: return "the answer goes out unchanged";
    case CallKind::kPick: return "least_outstanding picks the server";
  }
  return "";
}

// What the protected call reads and fills. Plain data: it lives across
// longjmps.
struct CallFrame {
  int ref = LUA_NOREF;
  CallKind kind = CallKind::kPredicate;
  // What the hook is given.
  HookQuery* query = nullptr;
  const ResponseFacts* answer = nullptr;
  std::span<const HookServer> servers;
  uint32_t pool = 0;
  bool reading_results = false;  // an error now is about the results, not the hook
  // Results.
  bool predicate = false;
  ActionVerdict action;
  AnswerVerdict answer_verdict;
  PickResult pick;
  // For the readers.
  const VerdictNames* names = nullptr;
  CallContext* context = nullptr;
  SpoofStorage* spoof = nullptr;
};

int protected_call(lua_State* L) {
  CallFrame& f = *static_cast<CallFrame*>(lua_touserdata(L, 1));
  const int base = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, f.ref);
  int args = 1;
  switch (f.kind) {
    case CallKind::kPredicate:
    case CallKind::kAction:
      push_query_object(L);
      break;
    case CallKind::kResponse:
      push_query_object(L);
      push_answer_object(L);
      args = 2;
      break;
    case CallKind::kPick:
      push_server_list(L, f.pool);
      push_query_object(L);
      args = 2;
      break;
  }
  lua_call(L, args, LUA_MULTRET);
  f.reading_results = true;
  const int first = base + 1;
  switch (f.kind) {
    case CallKind::kPredicate:
      if (lua_isboolean(L, first)) {
        f.predicate = lua_toboolean(L, first) != 0;
      } else if (!lua_isnoneornil(L, first)) {
        luaL_error(L, "returned a %s; a Lua predicate returns true or false", luaL_typename(L, first));
      }
      break;
    case CallKind::kAction:
      f.action = read_action_verdict(L, first, *f.names, *f.context, *f.spoof);
      break;
    case CallKind::kResponse:
      f.answer_verdict = read_answer_verdict(L, first);
      break;
    case CallKind::kPick:
      f.pick = read_pick(L, first, f.context->servers.size());
      break;
  }
  return 0;
}

uint64_t monotonic_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

std::string memory_text(size_t bytes) {
  constexpr size_t kMiB = size_t{1} << 20;
  return bytes % kMiB == 0 ? fmt::format("{} MiB", bytes / kMiB) : fmt::format("{} bytes", bytes);
}

}  // namespace

struct HookRuntime::Impl {
  explicit Impl(HookSetup s) : setup(std::move(s)) {
    names.pools = &setup.pools;
    context.tag_names = &setup.tags;
  }

  struct Hook {
    int ref = LUA_NOREF;
    std::string where;  // "hooks.lua:12", where the function is defined
    HookStats* stats = nullptr;
    uint64_t log_second = 0;     // the second of the last line logged
    uint64_t log_suppressed = 0;  // errors not logged since
  };

  HookSetup setup;
  std::unique_ptr<Sandbox> sandbox;
  std::vector<Hook> hooks;
  std::vector<HookStats> own_stats;
  VerdictNames names;
  CallContext context;
  SpoofStorage spoof;
  std::string last_error;
  uint64_t rebuilds = 0;

  // A fresh state: libraries, the files' top level, the functions, the
  // objects. Also what a state that ran out of memory is rebuilt with.
  bool build(std::string& error);
  bool call(uint32_t hook, CallFrame& frame);
  void failed(Hook& h, CallKind kind, std::string message);
};

bool HookRuntime::Impl::build(std::string& error) {
  for (Hook& h : hooks) h.ref = LUA_NOREF;
  sandbox = std::make_unique<Sandbox>(setup.limits.load);
  lua_State* L = sandbox->state();
  if (!L) {
    error = "the Lua state does not fit in its memory limit";
    return false;
  }
  for (const auto& [path, source] : setup.files) {
    if (auto e = sandbox->run_chunk(path, source)) {
      error = to_string(path, *e);
      return false;
    }
  }
  hooks.resize(setup.functions.size());
  for (size_t i = 0; i < setup.functions.size(); ++i) {
    const std::string& name = setup.functions[i];
    lua_getglobal(L, name.c_str());
    if (!lua_isfunction(L, -1)) {
      lua_pop(L, 1);
      error = fmt::format("Lua global '{}' is not a function", name);
      return false;
    }
    lua_Debug ar;
    lua_pushvalue(L, -1);
    if (lua_getinfo(L, ">S", &ar) != 0 && ar.linedefined > 0) {
      hooks[i].where = fmt::format("{}:{}", ar.short_src, ar.linedefined);
    } else {
      hooks[i].where = name;
    }
    hooks[i].ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_pushcfunction(L, [](lua_State* S) {
    create_call_objects(S, static_cast<CallContext*>(lua_touserdata(S, 1)));
    return 0;
  });
  lua_pushlightuserdata(L, &context);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    lua_settop(L, 0);
    error = "the Lua state does not fit in its memory limit";
    return false;
  }
  // From now on each call has its own budget: loading had the files'.
  sandbox->set_instruction_limit(setup.limits.call_instructions);
  return true;
}

void HookRuntime::Impl::failed(Hook& h, CallKind kind, std::string message) {
  HookStats::add(h.stats->errors);
  last_error = std::move(message);
  if (!setup.log) return;
  const uint64_t second = monotonic_ns() / 1'000'000'000;
  if (h.log_second == second && h.log_second != 0) {
    ++h.log_suppressed;
    return;
  }
  std::string line = fmt::format("lua hook '{}' ({}) failed: {}; {}", setup.functions[&h - hooks.data()], h.where,
                                 last_error, fallback_text(kind));
  if (h.log_suppressed) line += fmt::format(" ({} more failures of this hook were not logged)", h.log_suppressed);
  h.log_second = second;
  h.log_suppressed = 0;
  setup.log(setup.log_context, line);
}

bool HookRuntime::Impl::call(uint32_t index, CallFrame& frame) {
  if (index >= hooks.size()) return false;
  Hook& h = hooks[index];
  HookStats& stats = *h.stats;
  const uint64_t start = monotonic_ns();
  HookStats::add(stats.calls);
  lua_State* L = sandbox ? sandbox->state() : nullptr;
  if (L == nullptr || h.ref == LUA_NOREF) {  // a rebuild failed: every call falls back
    failed(h, frame.kind, "the hook's Lua state could not be rebuilt");
    HookStats::add(stats.nanoseconds, monotonic_ns() - start);
    return false;
  }
  frame.ref = h.ref;
  const uint64_t tags_before = frame.query->tags;
  context.query = frame.query;
  context.answer = frame.answer;
  context.servers = frame.servers;
  frame.names = &names;
  frame.context = &context;
  frame.spoof = &spoof;
  sandbox->reset_instruction_budget();
  lua_settop(L, 0);
  lua_pushcfunction(L, protected_call);
  lua_pushlightuserdata(L, &frame);
  const int status = lua_pcall(L, 1, 0, 0);
  context = CallContext{nullptr, nullptr, {}, context.tag_names};
  bool ok = status == LUA_OK;
  if (!ok) {
    frame.query->tags = tags_before;  // a failed call tags nothing
    std::string message;
    if (sandbox->instructions_exhausted()) {
      HookStats::add(stats.instruction_stops);
      message = fmt::format("ran past its budget of {} instructions", setup.limits.call_instructions);
      if (int line = sandbox->stopped_line()) {
        message += fmt::format(" (at {}:{})", h.where.substr(0, h.where.rfind(':')), line);
      }
    } else if (status == LUA_ERRMEM) {
      HookStats::add(stats.memory_stops);
      message = fmt::format("ran out of its Lua state's memory ({})", memory_text(setup.limits.load.memory_bytes));
    } else {
      size_t length = 0;
      const char* text = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &length) : nullptr;
      message = text ? std::string(text, length) : std::string("raised an error that is not a string");
      // Errors about the results carry no position: name the function's.
      if (frame.reading_results) message = fmt::format("{}: {}", h.where, message);
    }
    lua_settop(L, 0);
    failed(h, frame.kind, std::move(message));
    if (status == LUA_ERRMEM) {
      // Collect what the call left; a state still over half its cap holds
      // what a hook keeps in globals, and would fail again: start afresh.
      lua_gc(L, LUA_GCCOLLECT);
      if (sandbox->memory_used() > setup.limits.load.memory_bytes / 2) {
        std::string error;
        HookStats::add(stats.rebuilds);
        ++rebuilds;
        if (!build(error)) {
          sandbox.reset();
          if (setup.log) setup.log(setup.log_context, fmt::format("lua: rebuilding a hook state failed: {}", error));
        }
      }
    }
  }
  if (ok) lua_settop(L, 0);
  HookStats::add(stats.nanoseconds, monotonic_ns() - start);
  return ok;
}

HookRuntime::HookRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HookRuntime::~HookRuntime() = default;

std::unique_ptr<HookRuntime> HookRuntime::load(HookSetup setup, std::string& error) {
  auto impl = std::make_unique<Impl>(std::move(setup));
  const size_t n = impl->setup.functions.size();
  impl->own_stats = std::vector<HookStats>(n);
  if (!impl->build(error)) return nullptr;
  std::unique_ptr<HookRuntime> runtime(new HookRuntime(std::move(impl)));
  runtime->bind_stats(runtime->impl_->setup.stats);
  return runtime;
}

void HookRuntime::bind_stats(const std::vector<HookStats*>& stats) {
  for (size_t i = 0; i < impl_->hooks.size(); ++i) {
    HookStats* given = i < stats.size() ? stats[i] : nullptr;
    impl_->hooks[i].stats = given ? given : &impl_->own_stats[i];
  }
}

bool HookRuntime::predicate(uint32_t hook, HookQuery& query) {
  CallFrame frame;
  frame.kind = CallKind::kPredicate;
  frame.query = &query;
  return impl_->call(hook, frame) && frame.predicate;
}

ActionVerdict HookRuntime::action(uint32_t hook, HookQuery& query) {
  CallFrame frame;
  frame.kind = CallKind::kAction;
  frame.query = &query;
  return impl_->call(hook, frame) ? frame.action : ActionVerdict{};
}

AnswerVerdict HookRuntime::response(uint32_t hook, HookQuery& query, const ResponseFacts& answer) {
  CallFrame frame;
  frame.kind = CallKind::kResponse;
  frame.query = &query;
  frame.answer = &answer;
  return impl_->call(hook, frame) ? frame.answer_verdict : AnswerVerdict{};
}

PickResult HookRuntime::pick(uint32_t hook, HookQuery& query, uint32_t pool, std::span<const HookServer> servers) {
  CallFrame frame;
  frame.kind = CallKind::kPick;
  frame.query = &query;
  frame.servers = servers;
  frame.pool = pool;
  return impl_->call(hook, frame) ? frame.pick : PickResult{};
}

size_t HookRuntime::hook_count() const { return impl_->hooks.size(); }
const std::string& HookRuntime::hook_name(uint32_t hook) const { return impl_->setup.functions[hook]; }
const HookStats& HookRuntime::stats(uint32_t hook) const { return *impl_->hooks[hook].stats; }
const std::string& HookRuntime::last_error() const { return impl_->last_error; }
uint64_t HookRuntime::rebuilds() const { return impl_->rebuilds; }

const char* verdict_kind_name(ActionVerdict::Kind kind) {
  using K = ActionVerdict::Kind;
  switch (kind) {
    case K::kNoVerdict: return "no verdict";
    case K::kPool: return "pool";
    case K::kAllow: return "allow";
    case K::kDrop: return "drop";
    case K::kRefuse: return "refuse";
    case K::kRcode: return "rcode";
    case K::kTruncate: return "truncate";
    case K::kSpoof: return "spoof";
  }
  return "?";
}

std::optional<Verdict> decided_verdict(const Verdict& rule_verdict, const ActionVerdict& decided, Transport transport,
                                       uint16_t default_pool) {
  using K = ActionVerdict::Kind;
  Verdict v = rule_verdict;
  v.argument = 0;
  switch (decided.kind) {
    case K::kNoVerdict: return std::nullopt;
    case K::kPool:
      v.action = ActionKind::kPool;
      v.argument = decided.pool;
      break;
    case K::kAllow:
      v.action = ActionKind::kAllow;
      v.argument = default_pool;
      break;
    case K::kDrop: v.action = ActionKind::kDrop; break;
    case K::kRefuse: v.action = ActionKind::kRefuse; break;
    case K::kRcode:
      v.action = ActionKind::kRcode;
      v.argument = decided.rcode;
      break;
    case K::kTruncate:
      if (transport == Transport::kTcp) return std::nullopt;
      v.action = ActionKind::kTruncate;
      break;
    case K::kSpoof:
      v.action = ActionKind::kSpoof;
      v.argument = kLuaSpoofSet;
      break;
  }
  return v;
}

bool PredicateBinding::call(void* context, uint32_t function, const QueryView* query) {
  auto& b = *static_cast<PredicateBinding*>(context);
  if (function >= b.use_count) return false;
  HookQuery q;
  q.view = query;
  q.tags = b.tags ? *b.tags : 0;
  const bool result = b.runtime->predicate(b.hook_of_use[function], q);
  if (b.tags) *b.tags = q.tags;
  return result;
}

}  // namespace dnspc::lua
