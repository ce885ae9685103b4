// The runtime-owned registry: every piece of mutable state, keyed by stable
// names so a reloaded policy binds to the same state (rules by name, servers
// by "pool/address:port", QPS bounds by rule name and ordinal). Policies
// refer to it by id; in-flight queries hold server ids, never pointers into a
// policy.
//
// Counters are per worker (each written by one thread only, read by the
// control socket): no atomic read-modify-write, no shared cache line on the
// packet path. Shared state written by several threads is atomic: server
// health (written by the health checker), server QPS limits and rule QPS
// bounds (GCRA buckets, one CAS per take).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/rate_limiter.h"
#include "dnspc/runtime/policy_image.h"
#include "dnspc/source_rate_table.h"
#include "dnspc/verdict.h"
#include "dnspc/wire.h"

namespace dnspc::runtime {

// Written by one thread, read by any: relaxed load + store (a plain add).
class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void sub(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Per worker, per server.
struct alignas(64) ServerCounters {
  Counter queries;      // forwarded to it
  Counter answers;      // accepted answers
  Counter timeouts;
  Counter send_errors;
  Counter outstanding;  // in flight now
  Counter latency_sum_us;
  Counter latency_ewma_us;  // smoothed (1/8), for least_outstanding ties
  Counter wrong_source;     // datagrams on its sockets from another address or port
  Counter unknown_id;       // no query in flight with that ID on that socket
  Counter mismatched;       // ID known but question (or QR) differs
  Counter malformed;        // shorter than a header
  Counter full;             // skipped: outstanding bound reached
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
  Counter wrong_source;
  Counter unknown_id;
  Counter mismatched;
  Counter backend_malformed;
  Counter no_id;            // no free ID on the chosen socket after a few draws
  Counter logged;           // lines written by `log`
  Counter log_dropped;      // lines lost because the batch's log buffer was full
  Counter random_refills;
  Counter batches;
  std::unique_ptr<Counter[]> rule_hits;  // by registry rule id
  std::unique_ptr<Counter[]> tag_hits;   // by registry tag id
  std::unique_ptr<ServerCounters[]> servers;  // by registry server id
};

struct ServerEntry {
  std::string key;   // "pool/address:port"
  std::string pool;
  ServerSpec spec;   // of the policy that bound it last
  // Health, written by the health checker, read by workers per selection.
  std::atomic<bool> up{true};
  // first_available's limit, shared by every worker.
  RateLimiter qps_limiter;
  RateSpec qps_spec;
  // Health-check figures (main thread writes, control reads).
  Counter checks;
  Counter check_failures;
  Counter consecutive_failures;
  Counter consecutive_successes;
  Counter last_check_rtt_us;
  Counter state_changes;
  std::string last_failure;  // main thread only
};

class Registry {
 public:
  Registry(const PolicyImage& image, unsigned workers);

  unsigned worker_count() const { return static_cast<unsigned>(workers_.size()); }
  WorkerCounters& worker(unsigned w) { return *workers_[w]; }
  const WorkerCounters& worker(unsigned w) const { return *workers_[w]; }

  size_t server_count() const { return servers_.size(); }
  ServerEntry& server(uint32_t id) { return *servers_[id]; }
  const ServerEntry& server(uint32_t id) const { return *servers_[id]; }
  // Registry id of a pool's server, or -1.
  int find_server(const std::string& pool, const NetAddress& address) const;

  size_t rule_count() const { return rules_.size(); }
  const std::string& rule_name(uint32_t id) const { return rules_[id]; }
  int find_rule(const std::string& name) const;

  size_t tag_count() const { return tags_.size(); }
  const std::string& tag_name(uint32_t id) const { return tags_[id]; }
  int find_tag(const std::string& name) const;

  // QPS bounds of rules, by (rule name, ordinal); created with the registry.
  RateLimiter* limiters() { return limiters_.get(); }
  SourceRateTable* const* source_tables() { return source_table_ptrs_.data(); }

  static std::string server_key(const std::string& pool, const NetAddress& address);

 private:
  std::vector<std::unique_ptr<ServerEntry>> servers_;
  std::map<std::string, uint32_t> server_ids_;
  std::vector<std::string> rules_;
  std::map<std::string, uint32_t> rule_ids_;
  std::vector<std::string> tags_;
  std::map<std::string, uint32_t> tag_ids_;
  std::unique_ptr<RateLimiter[]> limiters_;
  std::vector<std::unique_ptr<SourceRateTable>> source_tables_;
  std::vector<SourceRateTable*> source_table_ptrs_;
  std::vector<std::unique_ptr<WorkerCounters>> workers_;
};

}  // namespace dnspc::runtime
