// Thompson NFA over bytes (in the folded domain), for one or several
// patterns at once. Each pattern is wrapped for search semantics: an entry
// loop over any byte before it (the unanchored prefix) and a match state that
// goes on matching whatever follows (the unanchored suffix).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "dnspc/regex/ast.h"

namespace dnspc::regex::detail {

constexpr uint32_t kNoState = UINT32_MAX;

enum class NfaKind : uint8_t {
  kBytes,      // one byte from sets[set], then out
  kSplit,      // epsilon to out and (unless kNoState) out2
  kTextStart,  // epsilon to out, only at text position 0
  kTextEnd,    // epsilon to out, only at the end of the text
  kMatch,      // pattern matched; stays matched on every byte
};

struct NfaState {
  NfaKind kind = NfaKind::kSplit;
  uint32_t out = kNoState;
  uint32_t out2 = kNoState;
  uint32_t set = 0;
  uint32_t pattern = 0;  // the pattern this state belongs to
};

struct Nfa {
  std::vector<NfaState> states;
  std::vector<ByteSet> sets;     // distinct sets, indexed by NfaState::set
  std::vector<uint32_t> starts;  // per pattern: its entry loop
  std::vector<uint32_t> matches; // per pattern: its match state
};

Nfa build_nfa(std::span<const Regex* const> regexes);

}  // namespace dnspc::regex::detail
