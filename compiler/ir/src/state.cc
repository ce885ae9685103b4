#include "dnspc/ir/state.h"

namespace dnspc::ir {

ProgramState::ProgramState(const Program& program, uint64_t random_seed) {
  limiter_count_ = program.limiters.size();
  limiters_ = std::make_unique<RateLimiter[]>(limiter_count_ ? limiter_count_ : 1);
  for (const Limiter& l : program.limiters) {
    tables_.push_back(l.per_source
                          ? std::make_unique<SourceRateTable>(l.spec, l.v4_prefix, l.v6_prefix, l.table_size)
                          : nullptr);
    table_ptrs_.push_back(tables_.back().get());
  }
  state_.rate_limiters = limiters_.get();
  state_.source_tables = table_ptrs_.data();
  state_.random = random_seed ? random_seed : 1;
}

DecisionState& ProgramState::for_query(uint64_t now_ns) {
  state_.now_ns = now_ns;
  state_.tags = 0;
  state_.first_rule = 0;  // a caller that resumed the last query left it set
  return state_;
}

void ProgramState::reserve_scratch(uint32_t words) {
  if (words <= scratch_.size()) return;
  scratch_.assign(words, 0);
  state_.scratch = scratch_.data();
  state_.scratch_words = words;
}

std::vector<uint64_t> ProgramState::snapshot() const {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < limiter_count_; ++i) {
    out.push_back(limiters_[i].theoretical_arrival_ns());
    if (SourceRateTable* t = table_ptrs_[i]) {
      for (uint32_t s = 0; s < t->capacity(); ++s) {
        uint64_t tat = t->bucket(s).theoretical_arrival_ns();
        if (tat) {
          out.push_back(s);
          out.push_back(tat);
        }
      }
    }
  }
  out.push_back(state_.random);
  return out;
}

}  // namespace dnspc::ir
