// Subset construction: NFA -> DFA over byte classes, under a state budget
// and a work budget, so that no pattern can hang the compiler or exhaust its
// memory (the classic exponential blow-up of .*a.{20}$ fails fast instead).
#pragma once

#include <cstdint>
#include <vector>

#include "bits256.h"
#include "byte_classes.h"
#include "nfa.h"

namespace dnspc::regex::detail {

struct RawDfa {
  ByteClasses classes;
  uint32_t state_count = 0;
  uint32_t start = 0;                       // state 0 is the dead state
  std::vector<uint32_t> next;               // [state * classes.count() + class]
  std::vector<std::vector<uint32_t>> accepts;  // per state: matching patterns, ascending

  // The transitions again, sparse: per state, for each state it moves to
  // other than state 0, the classes that lead there (ordered by their lowest
  // class). A state has a few such edges where it has dozens of classes, so
  // the passes after this one (minimisation, emit) mostly follow these.
  struct Edge {
    uint32_t target;
    Bits256 classes;
  };
  std::vector<uint32_t> edge_begin{0};  // per state: its range of edges
  std::vector<Edge> edges;
};

enum class SubsetStatus { kOk, kTooManyStates, kTooMuchWork };

struct SubsetLimits {
  uint32_t max_states = 0;
  uint64_t max_work = 0;  // NFA states visited, set elements stored and hashed
};

SubsetStatus determinize(const Nfa& nfa, const SubsetLimits& limits, RawDfa& out);

}  // namespace dnspc::regex::detail
