// The running policy as documents: its pools, its rules with their hits
// (paged and filtered: a policy may have 100k rules), and where it came
// from. The `pools`, `rules` and `policy` commands (and /api/v1/...) answer
// with these.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dnspc::runtime {

struct ActivePolicy;
class Registry;
struct ReloadSummary;

// {"pools": [{"name", "policy", "lua_policy"?, "on_no_server", "servers": [key, ...]}, ...]}
std::string pools_json(const ActivePolicy& p);

// {"total", "matching", "offset", "limit", "filter", "rules": [{"name", "action",
// "hits", "kind": "query"|"response"}, ...]}: the rules whose name holds
// `filter` (case-insensitive), from the `offset`-th on, at most `limit`.
// Hits are summed over the workers' counters, which only the workers write.
std::string rules_json(const ActivePolicy& p, const Registry& r, size_t offset, size_t limit, std::string_view filter);

// {"file", "hash", "compiled_at", "rules", "response_rules", "pools", "lua_files": [...],
// "last_reload": {...}}
std::string policy_json(const ActivePolicy& p, const ReloadSummary& last_reload);

}  // namespace dnspc::runtime
