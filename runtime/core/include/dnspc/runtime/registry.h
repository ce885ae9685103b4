// The runtime-owned registry: every piece of mutable state, keyed by stable
// names so a reloaded policy binds to the same state (rules by name, servers
// by "pool/address:port", QPS bounds by rule name and ordinal). Policies
// refer to it by id; in-flight queries hold server ids, never pointers into a
// policy.
//
// A reload grows the registry (update()): new servers, rules and tags get new
// ids; nothing moves, because every per-id array is a SegmentedArray (fixed
// directory, segments allocated once), so workers keep the counters and
// entries they point to. Names are never forgotten: a rule removed and added
// back finds its counter again; `live` says what the current policy uses.
//
// Counters are per worker (each written by one thread only, read by the
// control socket): no atomic read-modify-write, no shared cache line on the
// packet path. Shared state written by several threads is atomic: server
// health (written by the health checker), server QPS limits and rule QPS
// bounds (GCRA buckets, one CAS per take).
#pragma once

#include <atomic>
#include <cstdint>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/hook_stats.h"
#include "dnspc/verdict.h"
#include "dnspc/runtime/counter.h"
#include "dnspc/runtime/latency_histogram.h"
#include "dnspc/runtime/traffic_ring.h"
#include "dnspc/rate_limiter.h"
#include "dnspc/runtime/policy_image.h"
#include "dnspc/source_rate_table.h"
#include "dnspc/verdict.h"
#include "dnspc/wire.h"
#include "dnspc/runtime/segmented.h"
#include "dnspc/runtime/tcp_counters.h"

namespace dnspc::runtime {


// Per worker, per server.
struct alignas(64) ServerCounters {
  Counter queries;      // forwarded to it
  Counter answers;      // accepted answers
  Counter timeouts;
  Counter send_errors;
  Counter outstanding;  // in flight now
  Counter latency_ewma_us;  // smoothed (1/8), for least_outstanding ties
  Counter wrong_source;     // datagrams on its sockets from another address or port
  Counter unknown_id;       // no query in flight with that ID on that socket
  Counter mismatched;       // ID known but question (or QR) differs
  Counter malformed;        // shorter than a header
  Counter full;             // skipped: outstanding bound reached
  LatencyHistogram latency;  // of its accepted answers, UDP and TCP
  // Of those, the answers to TCP clients: their count and summed latency
  // (the console's TCP latency column).
  Counter tcp_answers, tcp_latency_sum_us;
};

// Per worker, everything else.
struct alignas(64) WorkerCounters {
  Counter queries;          // datagrams received on listeners
  Counter answers;          // datagrams sent to clients
  Counter client_send_errors;
  Counter backend_send_errors;
  Counter acl_refused;
  Counter acl_dropped;
  Counter oversized;        // larger than the receive buffer
  Counter malformed[kParseErrorCount];  // [0] unused (kOk)
  Counter actions[kActionKindCount];
  Counter forwarded;
  Counter no_server_dropped;
  Counter no_server_servfail;
  Counter timeouts;
  Counter timeout_servfail;
  Counter backend_answers;  // accepted
  LatencyHistogram latency_udp, latency_tcp;  // of accepted backend answers, by the client's transport
  LatencyHistogram latency_cache;             // of cache hits (the time in dnspc: microseconds at most)
  Counter answers_by_source[kAnswerSourceCount];  // AnswerSource: every answer sent, backend, local, SERVFAIL on timeout, cache
  Counter answer_rcodes[16];     // every answer sent, by its header rcode
  Counter wrong_source;
  Counter unknown_id;
  Counter mismatched;
  Counter backend_malformed;
  Counter truncated_for_client;  // UDP answers over the client's payload size, sent as TC=1
  Counter formerr_no_question;   // QDCOUNT 0 (or > 1): answered FORMERR
  Counter notimp_opcode;         // an opcode other than QUERY, NOTIFY, UPDATE: answered NOTIMP
  Counter no_id;            // no free ID on the chosen socket after a few draws
  Counter logged;           // lines written by `log`
  Counter log_dropped;      // lines lost because the batch's log buffer was full
  Counter random_refills;
  Counter batches;
  Counter kernel_evaluated;  // UDP queries the XDP program evaluated and passed up (docs/xdp.md)
  Counter lua_no_verdict;   // Lua actions that gave no verdict (or failed): the next rules decided
  Counter response_actions[kActionKindCount];  // terminal response-rule actions taken
  Counter delayed;        // answers held by `delay`
  Counter delay_dropped;  // not held: max_held_answers reached (or larger than 4 KiB)
  TcpCounters tcp;
  SegmentedArray<Counter, 4096, 4096> rule_hits;  // by registry rule id
  SegmentedArray<Counter, 64, 1024> tag_hits;     // by registry tag id
  SegmentedArray<ServerCounters, 64, 4096> servers;  // by registry server id
  SegmentedArray<HookStats, 64, 1024> lua_hooks;     // by registry Lua hook id
};

// What each worker saw last: every query decided, every answer sent.
struct WorkerRings {
  explicit WorkerRings(size_t entries) : queries(entries), answers(entries) {}
  TrafficRing queries;
  TrafficRing answers;
};

// What a reload changed, for its log line and the control socket's answer.
struct RegistryChanges {
  std::vector<uint32_t> servers_added, servers_removed;  // registry ids
  std::vector<std::string> pools_added, pools_removed;
  uint64_t rules_added = 0, rules_removed = 0, rules_changed = 0;
};

struct ServerEntry {
  std::string key;   // "pool/address:port"
  std::string pool;
  ServerSpec spec;   // of the policy that bound it last (main thread only)
  bool live = false;  // in the current policy (main thread only)
  // Health, written by the health checker, read by workers per selection.
  std::atomic<bool> up{true};
  // first_available's limit, shared by every worker; its rate is the
  // policy's (ActivePolicy::server_qps), so a reload can change it.
  RateLimiter qps_limiter;
  // Health-check figures (main thread writes, control reads).
  Counter checks;
  Counter check_failures;
  Counter consecutive_failures;
  Counter consecutive_successes;
  Counter last_check_rtt_us;
  Counter state_changes;
  std::string last_failure;  // main thread only

  // An operator's override (`dnspc ctl server KEY up|down|auto`; main thread
  // only). While one is set, `up` holds it, and what the health checks and
  // the policy's `state` say goes to `checked_up` instead, which `auto`
  // restores. Kept with the entry, so it survives reloads.
  ServerMode forced = ServerMode::kAuto;
  bool checked_up = true;
  std::string forced_at;  // UTC, when it was set
  // The state checks and the policy give, whether or not it is forced.
  bool health_up() const { return forced == ServerMode::kAuto ? up.load(std::memory_order_relaxed) : checked_up; }
  void set_health_up(bool v) {
    if (forced == ServerMode::kAuto) {
      up.store(v, std::memory_order_relaxed);
    } else {
      checked_up = v;
    }
  }
  // kUp or kDown forces (at `when`); kAuto hands the server back to checks.
  void force(ServerMode mode, std::string when);
};

// The part of update() that only reads: the registry ids of the rules and
// tags a policy names, the names it adds, and what changed against the
// running policy. At 100k rules that is a few hundred thousand hash lookups
// of strings, which the reload thread does (Registry::plan) so the main loop
// does not: it only appends the new names.
struct RegistryPlan {
  static constexpr uint32_t kNew = 0x80000000u;  // | index into new_rules / new_tags
  const PolicyImage* image = nullptr;  // made for this image
  size_t rule_count = 0, tag_count = 0;  // the registry's sizes it was made against
  // By image rule index, then response rule index: a registry id, or kNew | k
  // until update() has added the names; registry ids afterwards.
  std::vector<uint32_t> rule_ids;
  std::vector<uint32_t> tag_ids;                 // by image tag bit, the same way
  std::vector<std::string> new_rules, new_tags;  // names the registry has not seen, in order
  RegistryChanges changes;                       // rules and pools; servers are update()'s
  bool resolved = false;                         // update() has turned kNew into ids
};

// What the kernel fast path decided (docs/xdp.md, "Counters"), copied from
// its per-CPU maps once a second by the main thread, which alone reads and
// writes it; kept by rule id, so counts add up across reloads.
struct KernelCounters {
  bool attached = false;
  std::string interface, mode;
  uint32_t rules = 0;                 // the running prefix
  std::string end_reason;
  std::vector<uint64_t> rule_hits;    // by registry rule id
  uint64_t actions[kActionKindCount]{};
  uint64_t seen = 0, passed = 0, unparsed = 0, blocked = 0, unsealed = 0;
};

class Registry {
 public:
  Registry(const PolicyImage& image, unsigned workers);
  KernelCounters kernel;  // main thread only

  // Binds `next`'s names (main thread, before `next` is published): adds the
  // servers, rules and tags it names for the first time, updates the specs of
  // the servers it keeps, sets `live`, and grows every worker's counters.
  // `previous` (the running policy, or null) is what the changes are counted
  // against. False with `error` when an id space is full. With `plan` (made by
  // plan() for `next` and `previous` since the last update()), names are not
  // looked up again, and plan->rule_ids / tag_ids become registry ids for
  // bind_policy.
  bool update(const PolicyImage& next, const PolicyImage* previous, RegistryChanges& changes, std::string& error,
              RegistryPlan* plan = nullptr);

  // Reads only the name maps and `next` / `previous`, so it may run on another
  // thread while the main thread runs, as long as update() does not run
  // meanwhile: the reloader calls it on the reload thread, and calls update()
  // only once that thread has ended.
  RegistryPlan plan(const PolicyImage& next, const PolicyImage* previous) const;

  unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }
  WorkerCounters& worker(unsigned w) { return *workers_[w]; }
  const WorkerCounters& worker(unsigned w) const { return *workers_[w]; }
  // Recent queries and answers of worker w (sized once, by the first policy).
  WorkerRings& rings(unsigned w) { return *rings_[w]; }
  const WorkerRings& rings(unsigned w) const { return *rings_[w]; }

  size_t server_count() const { return server_count_; }
  ServerEntry& server(uint32_t id) { return servers_[id]; }
  const ServerEntry& server(uint32_t id) const { return servers_[id]; }
  // Registry id of a pool's server, or -1.
  int find_server(const std::string& pool, const NetAddress& address) const;
  // By key ("pool/address:port"), or -1.
  int find_server(const std::string& key) const;

  size_t rule_count() const { return rules_.size(); }
  const std::string& rule_name(uint32_t id) const { return rules_[id]; }
  bool rule_live(uint32_t id) const { return rule_live_[id] != 0; }
  int find_rule(const std::string& name) const;

  size_t tag_count() const { return tags_.size(); }
  const std::string& tag_name(uint32_t id) const { return tags_[id]; }
  bool tag_live(uint32_t id) const { return tag_live_[id] != 0; }
  int find_tag(const std::string& name) const;

  // Lua hooks, by function name (few: looked up in update(), not planned).
  size_t lua_hook_count() const { return lua_hooks_.size(); }
  const std::string& lua_hook_name(uint32_t id) const { return lua_hooks_[id]; }
  bool lua_hook_live(uint32_t id) const { return lua_hook_live_[id] != 0; }
  int find_lua_hook(const std::string& name) const;

  // The per-source QPS table of a limiter, by its key (created on first use,
  // kept while its rate, prefixes and size stay the same, so the clients it
  // holds stay held across a reload).
  std::shared_ptr<SourceRateTable> source_table(const std::string& key, const LimiterSpec& limiter);

  // The key a rule's QPS bound keeps its state under: "rule#ordinal".
  static std::vector<std::string> limiter_keys(const PolicyImage& image);

  static std::string server_key(const std::string& pool, const NetAddress& address);

 private:
  bool grow_counters(std::string& error);

  SegmentedArray<ServerEntry, 64, 4096> servers_;
  size_t server_count_ = 0;
  std::unordered_map<std::string, uint32_t> server_ids_;
  std::vector<std::string> rules_;
  std::vector<uint8_t> rule_live_;
  std::unordered_map<std::string, uint32_t> rule_ids_;
  std::vector<std::string> tags_;
  std::vector<uint8_t> tag_live_;
  std::unordered_map<std::string, uint32_t> tag_ids_;
  std::vector<std::string> lua_hooks_;
  std::vector<uint8_t> lua_hook_live_;
  struct SourceTableEntry {
    LimiterSpec spec;
    std::shared_ptr<SourceRateTable> table;
  };
  std::unordered_map<std::string, SourceTableEntry> source_tables_;
  std::vector<std::unique_ptr<WorkerCounters>> workers_;
  std::vector<std::unique_ptr<WorkerRings>> rings_;
};

}  // namespace dnspc::runtime
