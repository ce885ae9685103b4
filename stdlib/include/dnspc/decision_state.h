// The explicit state argument of a compiled policy. Compiled code holds no
// mutable globals: everything that changes between packets (time, random
// numbers, QPS bounds, tags) comes in here, so the same code can run under
// virtual time in `dnspc test` and be swapped without losing state.
#pragma once

#include <cstdint>

#include "dnspc/rate_limiter.h"

namespace dnspc {

class SourceRateTable;
struct QueryView;  // per-source-prefix QPS bounds (issue "shaping")

// What response rules read about a backend's answer, filled by the runtime
// before it calls a policy's response decision function (and ignored by the
// query one).
struct ResponseFacts {
  uint64_t latency_us = 0;  // from forwarding the query to receiving the answer
  uint32_t size = 0;        // the answer's bytes (TCP: without the length prefix)
  uint16_t rcode = 0;       // the header's 4 bits | the OPT record's extended rcode << 4
  uint16_t answers = 0;     // ANCOUNT
};

struct DecisionState {
  uint64_t now_ns = 0;  // monotonic; virtual in tests
  uint64_t random = 0;  // xorshift64 state, advanced by probability predicates; never 0
  RateLimiter* rate_limiters = nullptr;           // global bounds, indexed by the policy
  SourceRateTable* const* source_tables = nullptr;  // per-source bounds, indexed by the policy
  uint64_t tags = 0;  // tag bits set so far for this query; a policy has at most 64 tags
  // Working memory for native code (the probes' results, the candidate merge):
  // `scratch_words` 32-bit words, owned by whoever owns the state (one buffer
  // per worker). A compiled policy says how many words it needs
  // (NativePolicy::scratch_words(), a bound computed from its tables, so the
  // buffer cannot overflow); interpreters do not use it.
  uint32_t* scratch = nullptr;
  uint32_t scratch_words = 0;
  // Lua predicates (`lua NAME` in a condition), when the policy has any: the
  // owner of the state binds the policy's Lua functions (by index) to a Lua
  // runtime. Without one, a Lua predicate is false. Compiled code reaches it
  // only through dnspc_lua_predicate (probes.h).
  bool (*lua_predicate)(void* context, uint32_t function, const QueryView* query) = nullptr;
  void* lua_context = nullptr;
  // Response rules only: the backend answer being decided on.
  ResponseFacts response;
  // Where evaluation starts: rules before this index are skipped (their
  // `from rule N` guard is false), so a caller can resume after a rule that
  // did not decide without evaluating -- and charging -- any rule twice.
  // The query program reads it when it has Lua actions (called again past
  // a Lua action that fell back: error, budget, bad result), the response
  // program when it has tag/log-only rules (called again past each one;
  // runtime/policy_image.h). Whoever owns the state sets it to 0 before the
  // first call for each query and each answer.
  uint32_t first_rule = 0;
};

// The one random source compiled code and the interpreter share, so their
// verdicts agree on probability predicates.
inline uint64_t next_random(uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

}  // namespace dnspc
