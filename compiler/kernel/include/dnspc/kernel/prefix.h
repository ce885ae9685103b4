// Which rules the kernel fast path runs (docs/xdp.md, "Eligibility"): the
// longest prefix of the optimised decision program whose rules the XDP
// program can decide alone, how each of them is looked up, and which bit of
// the packet's facts (kernel_abi.h, dnspc_k_view) each of their tests gets.
// A pure pass over the program: the code generator builds on its answer,
// and `check`/`explain` report it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnspc/diag/source.h"
#include "dnspc/ir/program.h"

namespace dnspc::kernel {

// How a prefix rule is decided. A folded rule is one map entry (its key
// reports the rule in dnspc_k_lookup::min_rule) and costs no code; a general
// rule is code over the view, within the budgets below.
enum class RuleFold : uint8_t {
  kGeneral,      // code over dnspc_k_view
  kName,         // the condition is one name test: the names map
  kSource,       // one source-prefix test: the source LPM tries
  kDestination,  // one destination-prefix test: the destination LPM tries
  kQtypeName,    // one qtype test and one name test: names map keys carry the qtype
  kRegex,        // one regex test with a DNS suffix: its DFA runs when the suffix's name key holds
};
const char* rule_fold_name(RuleFold fold);

// What the XDP program may hold. The BPF verifier walks every path of the
// program and refuses one past a million instructions visited or with too
// much state to track; these keep the general code (and the view's bit
// words, 64 bits each) inside what it accepts.
struct KernelLimits {
  unsigned name_bits = 64, source_bits = 64, destination_bits = 64;
  unsigned general_regexes = 32;  // distinct regex tests in general rules (one DFA walk each)
  unsigned general_rules = 4096;
  unsigned general_tests = 8192;  // test references in general rules' conditions
};

// A fold's test id when it has none (fold_tests of a general rule,
// fold_qtype_tests of any rule but kQtypeName).
inline constexpr uint32_t kNoTest = 0xffffffffu;

struct KernelPrefix {
  uint32_t rules = 0;      // rules [0, rules) run in the kernel
  std::string end_reason;  // empty when every rule is eligible; else why rule `rules` is not
  diag::SourceRange
      end_range;  // the construct that ends the prefix (the test, the action or the rule)
  std::vector<RuleFold> folds;  // per prefix rule
  std::vector<uint32_t>
      fold_tests;  // per prefix rule: the name, source or destination test (kNoTest for general)
  std::vector<uint32_t> fold_qtype_tests;  // per prefix rule: kQtypeName's qtype test, else kNoTest
  std::vector<int> test_bit;  // per test id: its bit in name_bits / source_bits / destination_bits
                              // (by kind), or -1

  // Counts over the prefix, for reports.
  uint32_t folded(RuleFold fold) const;
  uint32_t general_regexes = 0;
  uint32_t general_tests = 0;
  uint32_t name_bits = 0, source_bits = 0, destination_bits = 0;
};

// `program` is the optimised program (opt::OptimizedPolicy::program: sets
// merged, tests deduplicated, ordered by cost); its rule indices are the
// lowered program's. A response program has no kernel prefix.
KernelPrefix find_kernel_prefix(const ir::Program& program, const KernelLimits& limits = {});

}  // namespace dnspc::kernel
