// Running a policy's Lua predicates: the same sandbox as the check (memory
// cap, reduced libraries), with a fresh instruction budget for every call, so
// a hook that loops costs one bounded call, never a stuck worker. One
// HookRuntime per evaluator (a Lua state is not shared between threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/lua/hook_check.h"
#include "dnspc/query_view.h"

namespace dnspc::lua {

struct HookLimits {
  SandboxLimits load;                       // for running the files' top level
  std::uint64_t call_instructions = 100'000;  // per predicate call
};

class HookRuntime {
 public:
  // Loads `files` (path, source) in order and binds `functions` (global
  // names) to indices 0.. for predicate(). nullptr and `error` when a file
  // fails to load or a name is not a function.
  static std::unique_ptr<HookRuntime> load(const std::vector<std::pair<std::string, std::string>>& files,
                                           const std::vector<std::string>& functions, std::string& error,
                                           const HookLimits& limits = {});
  ~HookRuntime();
  HookRuntime(const HookRuntime&) = delete;
  HookRuntime& operator=(const HookRuntime&) = delete;

  // Calls function `index` with a table describing the query (docs/lua.md)
  // and returns its result as a boolean. An error, a non-boolean result
  // (other than nil) or an exhausted budget counts as false, and is counted.
  bool predicate(uint32_t index, const QueryView& query);

  std::uint64_t errors() const { return errors_; }
  const std::string& last_error() const { return last_error_; }

  // The C entry point a DecisionState holds: `context` is the HookRuntime.
  static bool call_predicate(void* context, uint32_t index, const QueryView* query);

 private:
  struct Impl;
  explicit HookRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::uint64_t errors_ = 0;
  std::string last_error_;
};

}  // namespace dnspc::lua
