// Reading what a hook returned into a verdict. Each reader runs inside the
// protected call, on the hook's results at stack indexes first..top, with
// raw table access only (a returned table's metatable never runs), and
// raises a Lua error saying what was expected when the results do not fit.
// Private to lua/.
#pragma once

#include <lua.hpp>

#include <cstdint>
#include <vector>

#include "dnspc/lua/hook_runtime.h"
#include "hook_objects.h"

namespace dnspc::lua {

// Where a spoofing verdict's records go: sized once, reused by every call.
struct SpoofStorage {
  static constexpr size_t kMaxRecords = 16;
  static constexpr size_t kMaxBytes = 8192;
  SpoofRecord records[kMaxRecords];
  uint8_t bytes[kMaxBytes];
  size_t record_count = 0, used = 0;
};

struct VerdictNames {
  const std::vector<std::string>* pools = nullptr;
};

// nil or nothing: no verdict (not an error). Otherwise a verdict word and
// its arguments, then optionally a table {tags = {...}, ttl = N}.
ActionVerdict read_action_verdict(lua_State* L, int first, const VerdictNames& names, CallContext& context,
                                  SpoofStorage& spoof);

// nil, nothing or "keep": the answer unchanged; "drop"; "truncate"; "rcode", X.
AnswerVerdict read_answer_verdict(lua_State* L, int first);

// A server index (1..count) or nil.
PickResult read_pick(lua_State* L, int first, size_t count);

}  // namespace dnspc::lua
