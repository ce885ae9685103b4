// A compiled regex as plain data: the tables the reference interpreter walks
// and that the JIT emits a native loop over. It lives in stdlib because both
// the compiler (which builds it) and the runtime (which runs it) read it, and
// neither may depend on the other.
//
// Every reference inside a table is an index, never a pointer, so each array
// can be copied verbatim into JIT constant data or hashed and compared.
// Matching is one load per byte: next[state * class_count + byte_class[b]].
// Text is the lower-case text form of a query name (see query_view.h), but
// byte_class maps 'A'..'Z' onto the classes of 'a'..'z', so any text matches
// case-insensitively.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dnspc/query_view.h"

namespace dnspc {

// State ids are 16 bits, which bounds any regex_state_budget.
constexpr uint32_t kDfaMaxStates = 65535;

struct DfaTable {
  uint32_t state_count = 0;
  uint32_t class_count = 0;
  uint32_t start = 0;
  // States [0, sink_count) go to themselves on every byte, so a loop may stop
  // as soon as it reaches one. State 0 is always the dead state (accepts
  // nothing, ever); a single regex has at most one other sink, state 1, which
  // accepts every continuation (an unanchored match already seen).
  uint32_t sink_count = 0;
  uint32_t pattern_count = 0;  // 1 for a single regex, N for a union
  std::array<uint8_t, 256> byte_class{};
  std::vector<uint16_t> next;          // [state * class_count + class] -> state
  std::vector<uint8_t> accepting;      // per state: 1 when some pattern matches the text read so far
  std::vector<uint32_t> accept_begin;  // state_count + 1 entries; see dfa_accepted()
  std::vector<uint32_t> accept_ids;    // pattern ids, ascending within each state
};

// Runs from `state` over `len` bytes; stops early in a sink. Returns the state
// reached, whose `accepting` flag is the verdict for the text read so far.
inline uint32_t dfa_run_from(const DfaTable& t, uint32_t state, const uint8_t* text, size_t len) {
  const uint16_t* next = t.next.data();
  const uint32_t classes = t.class_count;
  const uint32_t sinks = t.sink_count;
  for (size_t i = 0; i < len && state >= sinks; ++i) {
    state = next[state * classes + t.byte_class[text[i]]];
  }
  return state;
}

inline uint32_t dfa_run(const DfaTable& t, const uint8_t* text, size_t len) {
  return dfa_run_from(t, t.start, text, len);
}

// True when the regex (for a union: any of its patterns) matches `text`.
inline bool dfa_match(const DfaTable& t, const uint8_t* text, size_t len) {
  return t.accepting[dfa_run(t, text, len)] != 0;
}

// The same run over the view's name in text form ("www.example.com.", "." for
// the root), read from qname_lower and label_offsets without building it.
uint32_t dfa_run_qname(const DfaTable& t, const QueryView& q);

inline bool dfa_match_qname(const DfaTable& t, const QueryView& q) {
  return t.accepting[dfa_run_qname(t, q)] != 0;
}

// The ids of the patterns that match when the run ended in `state`, ascending.
inline std::span<const uint32_t> dfa_accepted(const DfaTable& t, uint32_t state) {
  const uint32_t begin = t.accept_begin[state];
  return {t.accept_ids.data() + begin, t.accept_begin[state + 1] - begin};
}

// The match functions trust their table; a table from anywhere but the regex
// compiler (a cache, a test) is checked first. Returns nullptr when the table
// is well formed, else what is wrong with it.
const char* dfa_table_check(const DfaTable& t);

}  // namespace dnspc
