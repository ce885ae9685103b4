// Running a policy's Lua hooks: predicates, actions, response hooks and
// load-balancing policies (docs/lua.md). One HookRuntime is one Lua state in
// the check's sandbox (memory cap, reduced libraries, bounded pattern
// functions) with a fresh instruction budget for every call, so a hook that
// loops, errs or eats memory costs one bounded call and a documented
// fallback, never a stuck or dead worker. A state is not shared between
// threads: each worker owns one per policy (no global Lua lock).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnspc/decision_state.h"
#include "dnspc/hook_stats.h"
#include "dnspc/lua/hook_check.h"
#include "dnspc/query_view.h"
#include "dnspc/verdict.h"
#include "dnspc/wire.h"

namespace dnspc::lua {

struct HookLimits {
  SandboxLimits load;  // memory_bytes: the state's cap, for its whole life; instructions: the files' top level
  std::uint64_t call_instructions = 100'000;  // per hook call
};

// What the hooks of one policy may name, resolved once at load.
struct HookSetup {
  std::vector<std::pair<std::string, std::string>> files;  // (path as named, source), run in order
  std::vector<std::string> functions;  // hook index -> global function name
  std::vector<std::string> pools;      // pool index -> name, for `return "pool", NAME`
  std::vector<std::string> tags;       // tag bit -> name, for q:tag(NAME) and verdict tags
  HookLimits limits;
  // Where each hook counts (by hook index; null or short: the runtime's own).
  std::vector<HookStats*> stats;
  // Where errors go, at most one line per hook and second (null: nowhere).
  void (*log)(void* context, std::string_view line) = nullptr;
  void* log_context = nullptr;
};

// The query as a hook sees it. `tags` is read and written (q:tag(NAME)).
struct HookQuery {
  const QueryView* view = nullptr;
  std::string_view rule;  // the deciding rule's name ("" for load balancing)
  uint64_t tags = 0;
};

// What an action (`=> lua NAME`) decided. kNoVerdict is the fallback of a
// failed call: the rule counts as not matched and evaluation goes on.
struct ActionVerdict {
  enum class Kind : uint8_t { kNoVerdict, kPool, kAllow, kDrop, kRefuse, kRcode, kTruncate, kSpoof };
  Kind kind = Kind::kNoVerdict;
  uint16_t pool = 0;   // kPool
  uint8_t rcode = 0;   // kRcode
  std::span<const SpoofRecord> records;  // kSpoof: valid until the next call
};
const char* verdict_kind_name(ActionVerdict::Kind kind);

// The verdict a Lua action's decision stands for, the same in `dnspc run`,
// `test` and `explain`: `rule_verdict` (its rule and modifiers) with the
// action and argument replaced (kSpoof: kLuaSpoofSet; allow: the policy's
// default pool). nullopt when the action gave no verdict, and for truncate
// over TCP, which does not decide there (as a truncate rule).
std::optional<Verdict> decided_verdict(const Verdict& rule_verdict, const ActionVerdict& decided, Transport transport,
                                       uint16_t default_pool);

// What a response hook (`lua NAME` as a response rule's action) decided; a
// failed call keeps the answer.
struct AnswerVerdict {
  enum class Kind : uint8_t { kKeep, kDrop, kTruncate, kRcode };
  Kind kind = Kind::kKeep;
  uint8_t rcode = 0;
};

// One server of a pool, for a load-balancing hook (`policy lua NAME`).
struct HookServer {
  const NetAddress* address = nullptr;
  bool up = false;
  uint32_t outstanding = 0;   // queries in flight from this worker
  uint32_t latency_us = 0;    // smoothed
  uint32_t weight = 1, order = 1;
  int64_t qps_headroom = -1;  // tokens left under its qps bound; -1: no bound
  uint64_t queries = 0;       // sent to it by this worker
};

// A load-balancing hook's choice: a server index, none (the pool's
// on_no_server), or a failed call (the caller falls back to least_outstanding).
struct PickResult {
  enum class Kind : uint8_t { kServer, kNone, kFailed };
  Kind kind = Kind::kFailed;
  uint32_t server = 0;
};

class HookRuntime {
 public:
  // Runs the files and binds the functions. nullptr and `error` when a file
  // fails to load or a name is not a function.
  static std::unique_ptr<HookRuntime> load(HookSetup setup, std::string& error);
  ~HookRuntime();
  HookRuntime(const HookRuntime&) = delete;
  HookRuntime& operator=(const HookRuntime&) = delete;

  // Each call runs hook `hook` (an index into HookSetup::functions).
  bool predicate(uint32_t hook, HookQuery& query);
  ActionVerdict action(uint32_t hook, HookQuery& query);
  AnswerVerdict response(uint32_t hook, HookQuery& query, const ResponseFacts& answer);
  PickResult pick(uint32_t hook, HookQuery& query, uint32_t pool, std::span<const HookServer> servers);

  // Points hook i's counters at stats[i] (null: the runtime's own), e.g.
  // once a reload has given the hooks their registry entries.
  void bind_stats(const std::vector<HookStats*>& stats);

  size_t hook_count() const;
  const std::string& hook_name(uint32_t hook) const;
  const HookStats& stats(uint32_t hook) const;
  // The message of the last failed call ("" when none failed yet).
  const std::string& last_error() const;
  // How many times the state was rebuilt after running out of memory.
  uint64_t rebuilds() const;

 private:
  struct Impl;
  explicit HookRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The C entry point a DecisionState holds for Lua predicates: `context` is a
// PredicateBinding, `function` an index into its `hook_of_use`.
struct PredicateBinding {
  HookRuntime* runtime = nullptr;
  const uint32_t* hook_of_use = nullptr;  // the program's Lua uses -> hook index
  uint32_t use_count = 0;
  uint64_t* tags = nullptr;  // the decision's tags (DecisionState::tags), read and written
  static bool call(void* context, uint32_t function, const QueryView* query);
};

}  // namespace dnspc::lua
