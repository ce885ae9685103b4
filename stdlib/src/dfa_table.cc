// The out-of-line parts of dfa_table.h: the run over a wire-form name, and
// the well-formedness check the inline match loop relies on.
#include "dnspc/dfa_table.h"

namespace dnspc {

uint32_t dfa_run_qname(const DfaTable& t, const QueryView& q) {
  static constexpr uint8_t kDot = '.';
  if (q.label_count == 0) return dfa_run(t, &kDot, 1);
  // Text position i is wire byte i + 1: each label's bytes, then its
  // successor's length byte (or the root byte) read as a dot.
  uint32_t state = t.start;
  for (unsigned k = 0; k < q.label_count && state >= t.sink_count; ++k) {
    const unsigned begin = q.label_offsets[k] + 1u;
    const unsigned end = q.label_offsets[k + 1];
    if (end < begin) break;  // not a view parse_query made; read no further
    state = dfa_run_from(t, state, q.qname_lower + begin, end - begin);
    state = dfa_run_from(t, state, &kDot, 1);
  }
  return state;
}

const char* dfa_table_check(const DfaTable& t) {
  if (t.state_count == 0 || t.state_count > kDfaMaxStates) return "state count out of range";
  if (t.class_count == 0 || t.class_count > 256) return "class count out of range";
  if (t.start >= t.state_count) return "start state out of range";
  if (t.sink_count == 0 || t.sink_count > t.state_count) return "sink count out of range";
  if (t.next.size() != size_t{t.state_count} * t.class_count) return "transition table size";
  if (t.accepting.size() != t.state_count) return "accepting flags size";
  if (t.accept_begin.size() != size_t{t.state_count} + 1) return "accept index size";
  if (t.accept_begin.front() != 0 || t.accept_begin.back() != t.accept_ids.size()) {
    return "accept index bounds";
  }
  for (uint8_t c : t.byte_class) {
    if (c >= t.class_count) return "byte class out of range";
  }
  for (uint16_t s : t.next) {
    if (s >= t.state_count) return "transition target out of range";
  }
  for (uint32_t s = 0; s < t.state_count; ++s) {
    const uint32_t b = t.accept_begin[s], e = t.accept_begin[s + 1];
    if (e < b) return "accept index not ascending";
    if ((t.accepting[s] != 0) != (e > b)) return "accepting flag disagrees with accept ids";
    for (uint32_t i = b; i < e; ++i) {
      if (t.accept_ids[i] >= t.pattern_count) return "pattern id out of range";
      if (i > b && t.accept_ids[i] <= t.accept_ids[i - 1]) return "accept ids not ascending";
    }
    if (s < t.sink_count) {
      for (uint32_t c = 0; c < t.class_count; ++c) {
        if (t.next[s * t.class_count + c] != s) return "a sink leaves itself";
      }
    }
  }
  if (t.accepting[0] != 0) return "state 0 is not dead";
  return nullptr;
}

}  // namespace dnspc
