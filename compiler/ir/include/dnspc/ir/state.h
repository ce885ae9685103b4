// The mutable state a program's stateful tests need (QPS bounds), owned
// outside the program and passed in through DecisionState. `dnspc test`
// and the tests own one per run; the runtime keeps its own registry keyed by
// rule names instead.
#pragma once

#include <memory>
#include <vector>

#include "dnspc/decision_state.h"
#include "dnspc/ir/program.h"
#include "dnspc/source_rate_table.h"

namespace dnspc::ir {

class ProgramState {
 public:
  explicit ProgramState(const Program& program, uint64_t random_seed = 0x9e3779b97f4a7c15ull);
  ProgramState(const ProgramState&) = delete;
  ProgramState& operator=(const ProgramState&) = delete;

  // Fresh per query: tags cleared, evaluation from rule 0; time and the
  // random state carry on.
  DecisionState& for_query(uint64_t now_ns);
  DecisionState& state() { return state_; }

  // Bucket state, for comparing two evaluators after the same queries.
  std::vector<uint64_t> snapshot() const;

  // Native code needs working memory in the state (DecisionState::scratch):
  // grows it to at least `words` 32-bit words (NativePolicy::scratch_words()).
  // Never shrinks; interpreters need none.
  void reserve_scratch(uint32_t words);

 private:
  std::unique_ptr<RateLimiter[]> limiters_;
  size_t limiter_count_ = 0;
  std::vector<std::unique_ptr<SourceRateTable>> tables_;
  std::vector<SourceRateTable*> table_ptrs_;
  std::vector<uint32_t> scratch_;
  DecisionState state_;
};

}  // namespace dnspc::ir
