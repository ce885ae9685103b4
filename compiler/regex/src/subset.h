// Subset construction: NFA -> DFA over byte classes, under a state budget
// and a work budget, so that no pattern can hang the compiler or exhaust its
// memory (the classic exponential blow-up of .*a.{20}$ fails fast instead).
#pragma once

#include <cstdint>
#include <vector>

#include "byte_classes.h"
#include "nfa.h"

namespace dnspc::regex::detail {

struct RawDfa {
  ByteClasses classes;
  uint32_t state_count = 0;
  uint32_t start = 0;                       // state 0 is the dead state
  std::vector<uint32_t> next;               // [state * classes.count() + class]
  std::vector<std::vector<uint32_t>> accepts;  // per state: matching patterns, ascending
};

enum class SubsetStatus { kOk, kTooManyStates, kTooMuchWork };

struct SubsetLimits {
  uint32_t max_states = 0;
  uint64_t max_work = 0;  // NFA states visited, set elements stored and hashed
};

SubsetStatus determinize(const Nfa& nfa, const SubsetLimits& limits, RawDfa& out);

}  // namespace dnspc::regex::detail
