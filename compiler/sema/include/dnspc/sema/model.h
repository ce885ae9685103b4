// The checked policy: what sema produces from the AST and the IR lowering
// consumes. Names are resolved to indices, values are typed and defaulted,
// names are normalised (lower case, trailing dot). Source ranges stay, so
// later passes can still report at file:line:col.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnspc/dfa_table.h"
#include "dnspc/diag/source.h"
#include "dnspc/net_address.h"

namespace dnspc::sema {

using diag::SourceRange;

struct Prefix {
  NetAddress address;  // host bits cleared
  uint8_t length = 0;
  SourceRange range;
};

// ---------------------------------------------------------------- options

enum class FailureAnswer { kDrop, kServfail };
enum class AclAction { kRefuse, kDrop };

struct Options {
  unsigned workers = 0;  // 0: the number of cores
  uint64_t udp_timeout_ms = 2000;
  FailureAnswer timeout_answer = FailureAnswer::kDrop;
  AclAction acl_action = AclAction::kRefuse;
  unsigned max_outstanding = 10'000;  // per backend, per worker
  unsigned sockets_per_backend = 4;   // per worker, each on its own random port
  std::string default_pool;           // for `allow`; empty: the first pool declared
  unsigned regex_state_budget = 10'000;
  unsigned source_table_size = 65'536;  // per-source QPS buckets per rule
  unsigned max_held_answers = 10'000;   // answers held by `delay`, per worker
  // TCP limits.
  unsigned tcp_max_connections = 10'000;
  unsigned tcp_max_connections_per_client = 32;
  unsigned tcp_max_queries_per_connection = 1'000;
  uint64_t tcp_idle_timeout_ms = 10'000;
  uint64_t tcp_max_duration_ms = 120'000;
  unsigned tcp_max_buffered_bytes = 262'144;
  unsigned tcp_client_max_in_flight = 32;
  unsigned ring_entries = 10'000;  // recent queries and answers kept per worker, each  // forwarded queries per client connection
  // TCP toward backends (per worker, per backend).
  uint64_t tcp_connect_timeout_ms = 5'000;
  uint64_t tcp_backend_timeout_ms = 10'000;  // an answer in flight longer than this fails the connection
  unsigned tcp_backend_connections = 8;
  unsigned tcp_backend_max_in_flight = 64;  // pipelined queries per connection
  // Lua hooks (docs/lua.md).
  unsigned lua_instructions = 100'000;  // per call
  unsigned lua_memory_mb = 32;          // per Lua state (one per worker)
  // The web server (docs/web.md): who may connect, and whether POSTs that
  // change state are taken. Filled with kDefaultWebAcl when not set.
  std::vector<Prefix> web_acl;
  bool web_writes = false;
  // The console (docs/console.md): who may connect (kDefaultConsoleAcl when
  // not set) and the key file (empty: DNSPC_CONSOLE_KEY only).
  std::vector<Prefix> console_acl;
  std::string console_key_file;
};

inline constexpr const char* kDefaultWebAcl = "127.0.0.0/8, ::1/128";
inline constexpr const char* kDefaultConsoleAcl = "127.0.0.0/8, ::1/128";

// ---------------------------------------------------------------- kernel fast path

// `xdp "IFACE" [mode native|generic];` (docs/xdp.md): the interface whose
// UDP traffic to a listener meets the policy's leading rules in the kernel.
// Native runs in the driver; generic (the kernel's skb path) works on any
// interface, veth and lo included, and serves tests.
enum class XdpMode : uint8_t { kNative, kGeneric };
const char* xdp_mode_name(XdpMode m);

struct XdpSetting {
  std::string interface;  // 1 to 15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace
  XdpMode mode = XdpMode::kNative;
  SourceRange range;  // the whole statement
};

// ---------------------------------------------------------------- pools

enum class LbPolicy {
  kRoundRobin, kLeastOutstanding, kFirstAvailable, kWeightedRandom, kHashed, kConsistentHash, kLua
};
const char* lb_policy_name(LbPolicy p);

enum class ServerState { kAuto, kUp, kDown };

struct HealthCheck {
  std::string qname = "a.root-servers.net.";  // text form, trailing dot
  uint16_t qtype = 1;
  uint64_t interval_ms = 1000;
  uint64_t timeout_ms = 1000;
  unsigned down_after = 1;  // consecutive failures
  unsigned up_after = 1;    // consecutive successes
  uint16_t healthy_rcodes = 0xffff & ~(1u << 2);  // bit per rcode 0..15; default: all but SERVFAIL
};

struct Server {
  NetAddress address;  // port defaults to 53
  unsigned weight = 1;
  unsigned qps = 0;  // 0: no limit
  unsigned order = 1;
  HealthCheck check;
  ServerState state = ServerState::kAuto;
  SourceRange range;
};

// `cache ENTRIES [entry_size N] [min_ttl D] [max_ttl D] [max_negative_ttl D]
// [servfail_ttl D] [stale D] [stale_on_timeout on|off];` (docs/cache.md).
// Durations in whole seconds.
struct PoolCache {
  uint32_t entries = 0;
  uint32_t entry_size = 1232;  // bytes: larger answers are not kept
  uint32_t min_ttl_s = 0;
  uint32_t max_ttl_s = 86400;
  uint32_t max_negative_ttl_s = 3600;
  uint32_t servfail_ttl_s = 0;  // 0: SERVFAIL not kept
  uint32_t stale_s = 0;         // 0: no stale answers
  // Also serve from the stale window when a forwarded query times out.
  bool stale_on_timeout = false;
  SourceRange range;
  bool operator==(const PoolCache& o) const {
    return entries == o.entries && entry_size == o.entry_size && min_ttl_s == o.min_ttl_s &&
           max_ttl_s == o.max_ttl_s && max_negative_ttl_s == o.max_negative_ttl_s &&
           servfail_ttl_s == o.servfail_ttl_s && stale_s == o.stale_s &&
           stale_on_timeout == o.stale_on_timeout;
  }
};

struct Pool {
  std::string name;
  LbPolicy policy = LbPolicy::kRoundRobin;
  std::string lua_policy;  // LbPolicy::kLua
  std::vector<Server> servers;
  FailureAnswer no_server = FailureAnswer::kDrop;
  std::optional<PoolCache> cache;
  SourceRange range;
};

// ---------------------------------------------------------------- sets

enum class SetKind { kSuffixes, kNames, kNetmasks, kQtypes };

struct NamedSet {
  std::string name;
  SetKind kind = SetKind::kSuffixes;
  std::vector<std::string> names;  // kSuffixes, kNames: lower case, trailing dot
  std::vector<Prefix> prefixes;    // kNetmasks
  std::vector<uint16_t> qtypes;    // kQtypes
  SourceRange range;
};

// ---------------------------------------------------------------- conditions

enum class Compare { kEq, kNe, kLt, kLe, kGt, kGe };

// A typed condition. Leaves test one fact about the query; inner nodes are
// and/or/not. Names are lower case with the trailing dot.
struct Cond {
  enum class Kind {
    kAnd, kOr, kNot, kTrue, kFalse,
    kQnameEquals,    // names[0]
    kQnameSuffix,    // names[0]; a suffix matches itself (the apex) too
    kQnameInNames,   // set
    kQnameInSuffixes,  // set
    kQnameRegex,     // pattern
    kLabelCount,     // compare with number
    kNameLength,     // text-form length, trailing dot included
    kQtype,          // compare (== / !=) with number
    kQtypeIn,        // set (kQtypes) or inline qtypes
    kQclass,         // == / !=
    kOpcode,         // == / !=
    kHeaderBit,      // bit: header_bits::k*
    kEdns,           // an OPT record is present
    kEdnsDo,
    kEdnsVersion,    // compare
    kEdnsPayload,    // compare
    kEdnsOption,     // option code present (number)
    kSourceIn,       // set (kNetmasks) or inline prefixes
    kDestinationIn,
    kTransport,      // number: 0 udp, 1 tcp
    kPacketSize,     // compare
    kQps,            // rate bound (only as a top-level conjunct)
    kProbability,    // number in (0, 1]
    kTagged,         // tag index
    kLua,            // Lua predicate function
  };
  Kind kind = Kind::kTrue;
  SourceRange range;
  std::vector<Cond> children;
  Compare compare = Compare::kEq;
  uint64_t number = 0;
  double real = 0;
  std::vector<std::string> names;
  std::vector<uint16_t> qtypes;
  std::vector<Prefix> prefixes;
  int set = -1;  // index into Model::sets, or -1 for inline values
  std::string pattern;  // regex, as written between the slashes
  int regex = -1;       // index into Model::regexes
  std::string function;  // Lua
  // kQps
  double rate = 0;
  double burst = 0;
  bool per_source = false;
  uint8_t v4_prefix = 32, v6_prefix = 64;
};

// ---------------------------------------------------------------- actions

struct SpoofRecord {
  uint16_t type = 0;               // A, AAAA, CNAME, TXT
  std::vector<uint8_t> data;       // rdata (TXT: the text; CNAME: wire-form name)
  std::string text;                // as written, for explain and logs
};

struct Modifiers {
  std::vector<int> tags;  // tag indices set by `tag`
  bool log = false;
  uint64_t delay_ms = 0;
  bool no_recurse = false;
  bool set_cd = false;
  bool no_cache = false;  // the answer is neither looked up in nor stored in the pool's cache
  SourceRange range;      // the first modifier written, when there is one
};

enum class Terminal { kPool, kDrop, kRefuse, kRcode, kTruncate, kSpoof, kAllow, kLua };
const char* terminal_name(Terminal t);

struct Action {
  Modifiers modifiers;
  Terminal terminal = Terminal::kDrop;
  int pool = -1;  // kPool, kAllow (the default pool)
  uint8_t rcode = 0;
  std::vector<SpoofRecord> records;
  uint32_t ttl = 60;
  std::string lua_function;
  SourceRange range;
};

struct Rule {
  std::string name;
  Cond condition;
  Action action;
  SourceRange range;
  SourceRange name_range;
};

// ---------------------------------------------------------------- response rules

struct ResponseCond {
  // Response facts first; any query-side condition may appear too.
  enum class Kind { kAnd, kOr, kNot, kQuery, kRcode, kAnswerCount, kLatencyMs, kSize };
  Kind kind = Kind::kQuery;
  std::vector<ResponseCond> children;
  Compare compare = Compare::kEq;
  uint64_t number = 0;
  std::shared_ptr<Cond> query;  // kQuery
  SourceRange range;
};

enum class ResponseTerminal { kNone, kDrop, kTruncate, kRcode, kLua };

struct ResponseRule {
  std::string name;
  ResponseCond condition;
  Modifiers modifiers;  // tag and log only
  ResponseTerminal terminal = ResponseTerminal::kNone;
  uint8_t rcode = 0;
  std::string lua_function;
  SourceRange range;
};

// ---------------------------------------------------------------- dynamic blocks

enum class Measure { kQueries, kServfail, kNxdomain, kResponseBytes, kQtype };

enum class BlockAction { kPool, kDrop, kRefuse, kTruncate, kNoRecurse };

struct DynBlock {
  std::string name;
  Measure measure = Measure::kQueries;
  uint16_t qtype = 0;  // kQtype
  double bound_per_second = 0;
  uint8_t v4_prefix = 32, v6_prefix = 64;
  uint64_t window_ms = 0;
  BlockAction action = BlockAction::kDrop;
  int pool = -1;
  uint64_t duration_ms = 0;
  std::vector<Prefix> except;
  SourceRange range;
};

// ---------------------------------------------------------------- the policy

struct Endpoint {
  NetAddress address;
  SourceRange range;
};

// A regex sema compiled to check it, kept so lowering need not build it again.
struct CompiledRegex {
  std::string pattern;
  DfaTable dfa;
  std::string required;    // a literal every match contains
  std::string dns_suffix;  // every match lies under this name (text form), or empty
};

struct Model {
  Options options;
  std::vector<CompiledRegex> regexes;  // one per distinct pattern
  std::vector<Endpoint> listens;  // UDP and TCP each
  std::vector<Prefix> acl;
  std::optional<Endpoint> console, web;
  std::string control_path;
  std::optional<XdpSetting> xdp;
  std::vector<std::string> lua_files;  // resolved paths
  std::vector<Pool> pools;
  std::vector<NamedSet> sets;
  std::vector<std::string> tags;  // every tag name used, index = tag bit
  std::vector<Rule> rules;
  std::vector<ResponseRule> response_rules;
  std::vector<DynBlock> dynblocks;
  int default_pool = -1;

  int find_pool(const std::string& name) const;
  int find_set(const std::string& name) const;
};

}  // namespace dnspc::sema
