// What native code reads: an optimised policy turned into rows of data and
// a handful of rule shapes (docs/jit.md). No LLVM type appears here; the
// module builder (private to dnspc_codegen and dnspc_jit) emits code per
// lookup and per shape, and that code points at these tables.
//
// Layout contract: NativeTables and NativeDfa are read by generated code at
// offsetof() positions (as are QueryView and DecisionState); a unit test pins
// them (tests/unit/jit/layout_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/ir/program.h"
#include "dnspc/opt/index.h"

namespace dnspc::codegen {

// One DFA as the native loop reads it (a DfaTable's arrays, by pointer).
struct NativeDfa {
  const uint16_t* next = nullptr;
  const uint8_t* byte_class = nullptr;
  const uint8_t* accepting = nullptr;
  uint32_t class_count = 0;
  uint32_t start = 0;
  uint32_t sink_count = 0;
  // Regex unions only: state s's accepted test ids are
  // union_accept_tests[union_accept_begin[accept_base + s] .. [accept_base + s + 1]).
  uint32_t accept_base = 0;
};

// Exact negative filters in front of the address probes: per family (0 IPv4,
// 1 IPv6), a 65536-bit map of hash((top bits of a prefix) & mask[f]), where
// the mask keeps the shortest prefix length of that family (at most 32 / 64
// bits). An address whose bit is clear is in no prefix, so the probe is
// skipped. bits[f] null: no filter (the family has a /0); a family without
// prefixes has an all-zero map.
struct NativeAddressFilter {
  const uint64_t* bits[2] = {nullptr, nullptr};
  uint64_t mask[2] = {0, 0};
};
constexpr uint64_t kFilterMultiplier = 0x9e3779b97f4a7c15ull;
constexpr unsigned kFilterShift = 48;  // 16-bit map index: (x * multiplier) >> 48

// The data a compiled policy's code is given (its third argument). Every
// pointer is into the PolicyData that holds it or into the OptimizedPolicy
// that PolicyData keeps alive.
struct NativeTables {
  // Merged lookups (null when the index is empty: the probe is skipped).
  const NameIndex* names = nullptr;
  const PrefixIndex* sources = nullptr;
  const PrefixIndex* destinations = nullptr;
  const QtypeIndex* qtypes = nullptr;           // dnspc_qtype_ids for qtypes >= 256
  const uint32_t* qtype_small_begin = nullptr;  // qtypes->small_begin (257 entries)
  const uint32_t* qtype_ids = nullptr;          // qtypes->ids
  // Exact negative filter in front of the name probe: a 65536-bit map with
  // bit (b[n-3] << 8 | b[n-2]) set for every key b of n bytes (the two bytes
  // before the root byte). A key matching a name is a byte suffix of it, so a
  // name whose bit is clear matches no key. Null: no filter (the root is a key).
  const uint64_t* name_filter = nullptr;
  NativeAddressFilter source_filter, destination_filter;
  // Regex unions run on every query; lazy regexes (per ir regex table) only
  // when a candidate rule reaches them.
  const NativeDfa* unions = nullptr;
  const uint32_t* union_accept_begin = nullptr;
  const uint32_t* union_accept_tests = nullptr;
  const NativeDfa* regexes = nullptr;
  // Candidate lists of rule records: the rules filed under test t are
  // candidates[anchor_begin[t] .. anchor_begin[t + 1]); always_* and lazy_*
  // delimit two more lists in the same array (lazy: every rule filed under a
  // lazy regex, added when the name's labels hold dots). A candidate is the
  // offset of its rule's record in `rules` (in 8-byte words); records are in
  // rule order, so ascending offsets are ascending rules.
  const uint32_t* anchor_begin = nullptr;
  const uint32_t* candidates = nullptr;
  // Rule records, one cache line for most: word 0 the shape id, word 1 the
  // 8-byte verdict, then the row of parameters its shape reads.
  const uint64_t* rules = nullptr;
  uint64_t no_rule = 0;  // the verdict when no rule holds
  uint32_t always_begin = 0, always_end = 0;
  uint32_t lazy_begin = 0, lazy_end = 0;
  uint32_t union_count = 0;
  uint32_t rule_count = 0;
  // DecisionState::scratch layout, in 32-bit words: name facts at 0, then
  // source facts, destination facts, one final state per regex union, and
  // the merge's lists (2 words each: begin and end in `candidates`).
  uint32_t name_cap = 0, source_cap = 0, destination_cap = 0, list_cap = 0;
  uint32_t source_offset = 0, destination_offset = 0, union_state_offset = 0, list_offset = 0;
  uint32_t scratch_words = 0;
};
constexpr uint32_t kRecordHeaderWords = 2;  // shape, verdict

// A rule shape: the condition tree with each leaf's (TestKind, TestSource,
// compare op) but no table id or value; those are the rule's row.
struct ShapeNode {
  ir::Node::Op op = ir::Node::Op::kTest;
  ir::TestKind kind = ir::TestKind::kTrue;  // leaves
  opt::TestSource source = opt::TestSource::kDirect;
  ir::Compare compare = ir::Compare::kEq;  // compare leaves only, else kEq
  uint32_t param = 0;                      // leaves: first word in the row
  std::vector<uint32_t> children;          // indices into Shape::nodes
};

struct Shape {
  std::vector<ShapeNode> nodes;  // nodes[0] is the root
  uint32_t row_words = 0;
  uint32_t rules = 0;  // rules of this shape
};

// Row words a leaf of this kind takes (0, 1 or 2).
uint32_t leaf_param_words(ir::TestKind kind, opt::TestSource source);

class PolicyData {
 public:
  // Builds the tables and shapes. Returns null and sets `error` for what
  // native code cannot run (today: Lua tests).
  static std::unique_ptr<PolicyData> build(std::shared_ptr<const opt::OptimizedPolicy> policy,
                                           std::string& error);

  PolicyData(const PolicyData&) = delete;
  PolicyData& operator=(const PolicyData&) = delete;

  const NativeTables& tables() const { return tables_; }
  const std::vector<Shape>& shapes() const { return shapes_; }
  const opt::OptimizedPolicy& policy() const { return *policy_; }
  uint32_t scratch_words() const { return tables_.scratch_words; }
  // Bytes of the arrays built here (the policy's own indexes not counted).
  size_t data_bytes() const;

 private:
  PolicyData() = default;

  std::shared_ptr<const opt::OptimizedPolicy> policy_;
  std::vector<Shape> shapes_;
  std::vector<NativeDfa> unions_, regexes_;
  std::vector<uint32_t> union_accept_begin_, union_accept_tests_;
  std::vector<uint32_t> candidates_;
  std::vector<uint64_t> rules_;
  std::vector<uint64_t> name_filter_;
  std::vector<uint64_t> address_filters_[4];  // sources v4, v6, destinations v4, v6
  NativeTables tables_;
};

}  // namespace dnspc::codegen
