// The decision program: the policy's rules lowered from the checked model
// into tests over the packet view and the decision state, with every table
// (name sets, prefix sets, qtype sets, DFAs, rate bounds) as plain data. The
// reference interpreter walks it as written; the optimiser indexes it; the
// code generator compiles it. Source ranges stay for `explain`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnspc/dfa_table.h"
#include "dnspc/diag/source.h"
#include "dnspc/net_address.h"
#include "dnspc/rate_limiter.h"
#include "dnspc/verdict.h"

namespace dnspc::ir {

enum class Compare : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
bool compare(uint64_t lhs, Compare op, uint64_t rhs);
const char* compare_text(Compare op);

// One fact about a query. Stateful tests (kQps, kProbability, kLua) change
// or read state; everything else is a pure function of the view.
enum class TestKind : uint8_t {
  kTrue,
  kFalse,
  kName,          // table: name_sets; the qname is one of its exact names or under one of its suffixes
  kRegex,         // table: regexes; the DFA accepts the qname's text form
  kLabelCount,    // compare label_count with value
  kNameLength,    // compare the text form's length with value
  kQtype,         // table: qtype_sets; the qtype is in it
  kQclass,        // qclass == value
  kOpcode,        // opcode == value
  kHeaderBit,     // the flags word has bit `value`
  kEdns,          // an OPT record is present
  kEdnsDo,
  kEdnsVersion,   // compare
  kEdnsPayload,   // compare
  kEdnsOption,    // an option with code `value` is present
  kSource,        // table: prefix_sets; the source address is in it
  kDestination,   // table: prefix_sets
  kTransport,     // transport == value (0 udp, 1 tcp)
  kSize,          // compare the packet size
  kQps,           // table: limiters; the rule's traffic is over the bound
  kProbability,   // value: threshold; next_random(state) < value
  kTagged,        // state.tags has bit `value`
  kLua,           // table: lua_functions
  // Response rules only (DecisionState::response, the backend's answer):
  kResponseRcode,  // compare (== or !=) response.rcode with value
  kAnswerCount,    // compare response.answers
  kLatency,        // compare response.latency_us / 1000 (whole milliseconds) with value
  kResponseSize,   // compare response.size
  // Rules a caller may resume past (DecisionState::first_rule): query rules
  // up to the last Lua action, response rules up to the last tag/log-only one.
  kFromRule,  // state.first_rule <= value: evaluation has not moved past this rule
};
const char* test_kind_name(TestKind k);
bool is_stateful(TestKind k);

struct Test {
  TestKind kind = TestKind::kTrue;
  Compare op = Compare::kEq;
  uint32_t table = 0;
  uint64_t value = 0;
  diag::SourceRange range;

  friend bool operator==(const Test&, const Test&) = default;
};

struct Node {
  enum class Op : uint8_t { kTest, kAnd, kOr, kNot };
  Op op = Op::kTest;
  uint32_t test = 0;               // kTest
  std::vector<uint32_t> children;  // kAnd, kOr (in evaluation order), kNot (one)
};

// ------------------------------------------------------------------ tables

struct NameEntry {
  std::string wire;  // lower-case wire form, root byte included
  bool suffix = false;  // false: the whole name must equal it
};
struct NameSet {
  std::vector<NameEntry> entries;
};

struct Prefix {
  NetAddress address;  // host bits cleared, port 0
  uint8_t length = 0;
};
struct PrefixSet {
  std::vector<Prefix> prefixes;
};

struct QtypeSet {
  std::vector<uint16_t> qtypes;  // ascending
};

struct Regex {
  std::string pattern;   // as written, for explain
  DfaTable dfa;
  std::string required;    // a literal every match contains (may be empty)
  std::string dns_suffix;  // every match ends with this name (text form, may be empty)
};

struct Limiter {
  RateSpec spec;
  double qps = 0, burst = 0;
  bool per_source = false;
  uint8_t v4_prefix = 32, v6_prefix = 64;
  uint32_t table_size = 0;  // per_source: buckets
  uint32_t rule = 0;        // the rule it belongs to (state is kept by rule name)
};

// ------------------------------------------------------------------ rules

struct SpoofRecord {
  uint16_t type = 0;
  std::vector<uint8_t> data;
};
struct SpoofSet {
  std::vector<SpoofRecord> records;
  uint32_t ttl = 0;
};

struct RuleAction {
  ActionKind terminal = ActionKind::kDrop;
  uint16_t argument = 0;   // pool, rcode, spoof set or Lua function index
  uint8_t modifiers = 0;   // modifier_bits
  uint64_t tag_bits = 0;   // tags set by `tag`
  uint32_t delay_ms = 0;
  // Where they were written, for passes that report about the action
  // (kernel::find_kernel_prefix); invalid for response rules.
  diag::SourceRange range;           // the terminal action
  diag::SourceRange modifier_range;  // the first modifier, when there is one
};

struct Rule {
  std::string name;
  uint32_t root = 0;  // node index
  RuleAction action;
  diag::SourceRange range;
};

struct Program {
  std::vector<Test> tests;
  std::vector<Node> nodes;
  std::vector<Rule> rules;

  std::vector<NameSet> name_sets;
  std::vector<PrefixSet> prefix_sets;
  std::vector<QtypeSet> qtype_sets;
  std::vector<Regex> regexes;
  std::vector<Limiter> limiters;
  std::vector<std::string> lua_functions;
  std::vector<SpoofSet> spoof_sets;
  std::vector<std::string> pools;
  std::vector<std::string> tags;
  // Response rules (lower_responses), read by the same evaluators: their
  // facts come from DecisionState::response, a rule without a terminal
  // action has `allow`, and no rule holding means allow too.
  bool responses = false;

  Verdict verdict_of(uint32_t rule) const;
  // The verdict when no rule holds, {rules.size(), action, 0, 0}: allow for
  // response rules (the answer goes out as it is); for query rules it is
  // unreachable (the last rule matches everything) and drop is the safe
  // answer for a hand-built program.
  Verdict no_match_verdict() const;
};

}  // namespace dnspc::ir
