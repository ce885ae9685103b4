// The policy image: everything the runtime needs from a compiled policy, as
// plain data, plus the one decision function it calls per packet. The
// runtime never sees the AST, the IR or LLVM: a bridge (runtime/bridge, or
// the JIT later) fills this from whatever compiled the policy. Indices in a
// Verdict (rule, pool, spoof set) index the vectors here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnspc/decision_state.h"
#include "dnspc/dynblock_spec.h"
#include "dnspc/net_address.h"
#include "dnspc/query_view.h"
#include "dnspc/rate_limiter.h"
#include "dnspc/verdict.h"

namespace dnspc::runtime {

// The decision function: one indirect call per packet. `context` is owned by
// `owner` (the compiled policy: its tables, later its JIT code), which the
// image keeps alive as long as any worker may call it.
struct Decider {
  using Fn = Verdict (*)(const void* context, const QueryView& query, DecisionState& state);
  Fn fn = nullptr;
  const void* context = nullptr;
  std::shared_ptr<const void> owner;
  // Working memory the function needs in DecisionState (native code's
  // scratch words); each worker owns a buffer this large.
  uint32_t scratch_words = 0;

  Verdict operator()(const QueryView& q, DecisionState& s) const { return fn(context, q, s); }
};

enum class LbPolicy : uint8_t {
  kRoundRobin,
  kLeastOutstanding,
  kFirstAvailable,
  kWeightedRandom,
  kHashed,
  kConsistentHash,
  kLua,  // PoolSpec::lua_hook picks (docs/lua.md); least_outstanding when it fails
};
const char* lb_policy_name(LbPolicy p);

// A server's health: forced, or following the active checks.
enum class ServerMode : uint8_t { kAuto, kUp, kDown };

struct HealthCheckSpec {
  std::string qname = "a.root-servers.net.";  // text form
  uint16_t qtype = 1;
  uint64_t interval_ms = 1000;
  uint64_t timeout_ms = 1000;
  unsigned down_after = 1;
  unsigned up_after = 1;
  uint16_t healthy_rcodes = 0xffff & ~(1u << 2);  // bit per rcode 0..15
};

struct ServerSpec {
  NetAddress address;
  unsigned weight = 1;  // 1..1000
  unsigned qps = 0;     // 0: no limit (first_available)
  unsigned order = 1;
  HealthCheckSpec check;
  ServerMode mode = ServerMode::kAuto;
};

// A pool's packet cache (docs/cache.md); a reload keeps the cache when this is unchanged.
struct CacheSpec {
  uint32_t entries = 0;
  uint32_t entry_size = 1232;
  uint32_t min_ttl_s = 0, max_ttl_s = 86400, max_negative_ttl_s = 3600, servfail_ttl_s = 0, stale_s = 0;
  friend bool operator==(const CacheSpec&, const CacheSpec&) = default;
};

struct PoolSpec {
  std::string name;
  LbPolicy policy = LbPolicy::kRoundRobin;
  std::vector<ServerSpec> servers;
  bool servfail_on_no_server = false;  // else drop
  uint32_t lua_hook = 0;               // LbPolicy::kLua: index into LuaSpec::hooks
  CacheSpec cache;                     // entries == 0: no cache
  // Serve from the cache's stale window when a forwarded query times out.
  // Not in CacheSpec: turning it on or off keeps the cache's entries.
  bool cache_stale_on_timeout = false;
};

struct SpoofRecordSpec {
  uint16_t type = 0;          // A, AAAA, CNAME, TXT
  std::vector<uint8_t> data;  // rdata; TXT: the text; CNAME: the target in wire form
};
struct SpoofSetSpec {
  std::vector<SpoofRecordSpec> records;
  uint32_t ttl = 60;
};

// Everything static about a rule; a verdict's `rule` indexes these.
struct RuleSpec {
  std::string name;
  ActionKind action = ActionKind::kDrop;
  uint16_t argument = 0;  // pool (kPool, kAllow), rcode, spoof set
  uint8_t modifiers = 0;  // modifier_bits
  uint64_t tag_bits = 0;
  uint32_t delay_ms = 0;
  // A hash of the rule's source text (0: unknown), so a reload can tell a
  // changed rule from a kept one.
  uint64_t fingerprint = 0;
};

// Everything static about a response rule; a response verdict's `rule`
// indexes these. `action` is kDrop, kTruncate, kRcode (argument: the rcode),
// kLua (argument: the Lua action) or kAllow: no terminal action, the rule
// only tags and logs and the next response rule runs (see response_decide).
struct ResponseRuleSpec {
  std::string name;
  ActionKind action = ActionKind::kAllow;
  uint16_t argument = 0;
  uint8_t modifiers = 0;  // modifier_bits: kTag, kLog only
  uint64_t tag_bits = 0;
};

// A QPS bound the decision function charges through DecisionState: global
// ones are DecisionState::rate_limiters[i], per-source ones
// DecisionState::source_tables[i] (same index). State is kept by
// (rule name, ordinal within the rule).
struct LimiterSpec {
  uint32_t rule = 0;
  RateSpec spec;
  bool per_source = false;
  uint8_t v4_prefix = 32, v6_prefix = 64;
  uint32_t table_size = 0;
};

struct Prefix {
  NetAddress address;
  uint8_t length = 0;
};

// DNS over TCP: limits toward clients (a connection over one is closed and
// counted) and the connection pool toward each backend.
struct TcpOptions {
  unsigned max_connections = 10'000;           // all workers together
  unsigned max_connections_per_client = 32;    // per client address
  unsigned max_queries_per_connection = 1'000;
  uint64_t idle_timeout_ms = 10'000;           // nothing received and nothing in flight
  uint64_t max_duration_ms = 120'000;          // since the connection was accepted
  unsigned max_buffered_bytes = 262'144;       // unanswered input plus unsent output
  unsigned client_max_in_flight = 32;          // a connection's forwarded queries; past it, it is not read
  uint64_t connect_timeout_ms = 5'000;         // toward a backend
  uint64_t backend_timeout_ms = 10'000;        // an answer in flight longer fails the connection
  unsigned backend_connections = 8;            // per backend, per worker
  unsigned backend_max_in_flight = 64;         // pipelined queries per backend connection
};

struct Options {
  unsigned workers = 0;  // 0: the number of cores
  uint64_t udp_timeout_ms = 2000;
  bool timeout_servfail = false;  // else drop
  bool acl_drop = false;          // else REFUSED
  unsigned max_outstanding = 10'000;  // per backend, per worker
  unsigned sockets_per_backend = 4;   // per backend, per worker
  unsigned max_held_answers = 10'000;  // UDP answers held by `delay`, per worker
  unsigned ring_entries = 10'000;      // recent queries and answers, per worker, each (not reloadable)
  TcpOptions tcp;
};

// Lua hooks (docs/lua.md): the files every worker's own Lua state runs, and
// the functions the policy calls, each named once. The decision programs
// number their Lua uses (predicates and actions; response actions) in their
// own order; the uses map them to hooks.
struct LuaSpec {
  std::vector<std::pair<std::string, std::string>> files;  // (path as the policy wrote it, source)
  std::vector<std::string> hooks;       // global function names, each once
  std::vector<uint32_t> query_uses;     // the query program's Lua uses -> hook
  std::vector<uint32_t> response_uses;  // the response program's -> hook
  uint16_t default_pool = 0;            // what an `allow` verdict forwards to
  uint64_t call_instructions = 100'000;          // per call (option lua_instructions)
  size_t memory_bytes = size_t{32} << 20;        // per state (option lua_memory, MiB)
  bool empty() const { return hooks.empty(); }
};

// The web server (docs/web.md). The address is read once at start (not
// reloadable); the ACL and `writes` are read from the running policy on each
// request, so a reload changes who may use it and whether it takes writes.
struct WebSpec {
  NetAddress address;
  std::vector<Prefix> acl;  // option web_acl
  bool writes = false;      // option web_writes
};

// The console (docs/console.md). The address and the key are read once at
// start; the ACL from the running policy on each connection.
struct ConsoleSpec {
  NetAddress address;
  std::vector<Prefix> acl;  // option console_acl
  std::string key_file;     // option console_key_file; empty: DNSPC_CONSOLE_KEY only
};

// The kernel fast path's loaded program (runtime/xdp, kernel_program.h).
}  // namespace dnspc::runtime
namespace dnspc::xdp {
struct KernelProgram;
}  // namespace dnspc::xdp
namespace dnspc::runtime {

struct PolicyImage {
  std::string path;  // where it came from, for logs
  // The kernel fast path (docs/xdp.md), for a policy with an `xdp`
  // statement: its program, or why there is none. `kernel_refused` says the
  // verifier refused it (a reload then fails and keeps the running policy);
  // otherwise the problem is the machine's (no BPF, no permission) and dnspc
  // runs without the fast path.
  bool kernel_wanted = false;
  std::shared_ptr<xdp::KernelProgram> kernel;
  std::string kernel_problem;
  bool kernel_refused = false;
  // What `policy` (and /api/v1/policy) reports: a hash of every source file
  // the policy read (the policy, its set files, its Lua files), and when it
  // was compiled (UTC).
  std::string source_hash;
  std::string compiled_at;
  std::vector<NetAddress> listeners;
  std::vector<Prefix> acl;
  std::string control_path;  // empty: none given
  std::optional<WebSpec> web;  // none: no web server
  std::optional<ConsoleSpec> console;  // none: no console
  Options options;
  std::vector<PoolSpec> pools;
  std::vector<RuleSpec> rules;
  std::vector<SpoofSetSpec> spoof_sets;
  std::vector<LimiterSpec> limiters;
  std::vector<std::string> tags;  // tag bit -> name
  // Parts of the policy this runtime does not apply yet (response rules,
  // dynamic blocks, delay, TCP): logged as warnings at start.
  std::vector<std::string> not_applied;
  // The query rules, per query: s.tags = 0 and s.first_rule = 0, then
  // v = decide(view, s). A Lua action that fails (an error, its budget, a
  // result it cannot use) counts as not matched: calling again with
  // s.first_rule = v.rule + 1 goes on with the next rule, and no rule before
  // it is evaluated again (no QPS bound charged twice).
  Decider decide;

  // Response rules, run on each backend answer before it goes to the
  // client. response_decide.fn is null when the policy has none. Same
  // signature as `decide`; call it on the worker, per answer:
  //
  //   DecisionState& s = ...;  // the worker's (scratch: the larger of
  //                            // decide's and response_decide's scratch_words)
  //   s.tags = rules[query_verdict.rule].tag_bits;  // the query's tags
  //   s.now_ns = now;  // probability tests draw from s.random as usual
  //   s.response = {latency_us, answer bytes, rcode (header | extended << 4),
  //                 ANCOUNT};
  //   s.first_rule = 0;  // the query's decision may have left it set
  //   for (;;) {
  //     Verdict v = response_decide(query_view, s);  // the client's query's view
  //     if (v.rule >= response_rules.size()) break;   // no (further) rule: send the answer
  //     const ResponseRuleSpec& r = response_rules[v.rule];
  //     s.tags |= r.tag_bits;                         // later rules' `tagged` see them
  //     if (v.modifiers & modifier_bits::kLog) log the answer, naming r.name;
  //     if (v.action != ActionKind::kAllow) { act on v.action / v.argument; break; }
  //     s.first_rule = v.rule + 1;                    // tag/log only: go on
  //   }
  //
  // So every matching rule up to the first one with a terminal action
  // applies its own tags and log, in rule order; that terminal rule
  // decides (drop: say nothing; truncate: TC=1 and no records, over UDP only
  // -- over TCP the rule does not match; rcode: the answer replaced by an
  // empty one with that rcode; lua: the Lua action). Query-side conditions
  // read the client's query (the view the query rules saw), response facts
  // read s.response. The query rules' rate limiters are not touched (QPS
  // bounds cannot appear in response rules).
  std::vector<ResponseRuleSpec> response_rules;
  Decider response_decide;

  // Dynamic blocks, in policy order (docs/dynblocks.md). A blocked query's
  // verdict has rule index rules.size() + block index.
  std::vector<BlockSpec> dynblocks;

  LuaSpec lua;
};

}  // namespace dnspc::runtime
