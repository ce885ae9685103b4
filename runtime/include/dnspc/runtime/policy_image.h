// The policy image: everything the runtime needs from a compiled policy, as
// plain data, plus the one decision function it calls per packet. The
// runtime never sees the AST, the IR or LLVM: a bridge (runtime/bridge, or
// the JIT later) fills this from whatever compiled the policy. Indices in a
// Verdict (rule, pool, spoof set) index the vectors here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/decision_state.h"
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

struct PoolSpec {
  std::string name;
  LbPolicy policy = LbPolicy::kRoundRobin;
  std::vector<ServerSpec> servers;
  bool servfail_on_no_server = false;  // else drop
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

struct Options {
  unsigned workers = 0;  // 0: the number of cores
  uint64_t udp_timeout_ms = 2000;
  bool timeout_servfail = false;  // else drop
  bool acl_drop = false;          // else REFUSED
  unsigned max_outstanding = 10'000;  // per backend, per worker
  unsigned sockets_per_backend = 4;   // per backend, per worker
};

struct PolicyImage {
  std::string path;  // where it came from, for logs
  std::vector<NetAddress> listeners;
  std::vector<Prefix> acl;
  std::string control_path;  // empty: none given
  Options options;
  std::vector<PoolSpec> pools;
  std::vector<RuleSpec> rules;
  std::vector<SpoofSetSpec> spoof_sets;
  std::vector<LimiterSpec> limiters;
  std::vector<std::string> tags;  // tag bit -> name
  // Parts of the policy this runtime does not apply yet (response rules,
  // dynamic blocks, delay, TCP): logged as warnings at start.
  std::vector<std::string> not_applied;
  Decider decide;
};

}  // namespace dnspc::runtime
