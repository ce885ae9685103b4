// The answer stage, one for both transports and without I/O. A backend
// answer matched to its query (the worker does that: by slot over UDP, by
// connection over TCP) is accepted (the client's ID, name case and RD/CD
// back; latency and the server's counters), passes the "backend answer" taps
// (dynamic-block measure, response rules: they may replace or drop it) and
// the client's size limit (UDP: TC=1 past it); the result says what to send.
// The worker then records it ("answered" taps) and sends it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dnspc/cache_wire.h"
#include "dnspc/decision_state.h"
#include "dnspc/query_view.h"
#include "dnspc/runtime/in_flight.h"
#include "dnspc/runtime/taps.h"
#include "dnspc/verdict.h"

namespace dnspc {
class BlockRecorder;
namespace lua {
class HookRuntime;
}
}

namespace dnspc::runtime {

struct ActivePolicy;
struct ResponseRuleSpec;
struct ServerCounters;
struct WorkerCounters;

struct AnswerResult {
  const uint8_t* data = nullptr;  // what the client gets; null: dropped (a response rule, or no answer made)
  size_t size = 0;
  uint64_t latency_us = 0;
  bool used_buffer = false;  // `data` is in the caller's buffer (the caller keeps it until sent)
};

// A response rule's `log` line: written by the worker's query log. Called
// only for rules with `log`, so a plain function pointer costs nothing on
// the usual path.
using ResponseLogFn = void (*)(void* context, const QueryView& q, const SockAddr& client, const Verdict& v,
                               const char* outcome, uint32_t server, const ResponseRuleSpec& rule);

class AnswerStage {
 public:
  explicit AnswerStage(WorkerCounters& counters) : counters_(counters) {}

  void bind(const ActivePolicy* policy, BlockRecorder* recorder, DecisionState* state, const Taps* taps,
            lua::HookRuntime* lua) {
    policy_ = policy;
    recorder_ = recorder;
    state_ = state;
    taps_ = taps;
    lua_ = lua;
  }
  void set_log(ResponseLogFn fn, void* context) {
    log_ = fn;
    log_context_ = context;
  }

  // The question an answer to `q` must echo (answer_matches reads only these).
  const QueryView& expected_question(const InFlightQuery& q);

  // `packet` is rewritten in place (ID, name case, RD/CD). `server` and
  // `ewma_us` are the server's counters and smoothed latency in this worker.
  // `destination`: the listen address the query came in on. An answer made
  // here (a response rule's, a truncated one) goes to `buffer`.
  AnswerResult deliver(const InFlightQuery& q, uint8_t* packet, size_t size, uint64_t now_ns,
                       const NetAddress& destination, ServerCounters& server, uint32_t& ewma_us, uint8_t* buffer,
                       size_t capacity);

  // A cache hit (`answer`, already the answer to `q`: worker_cache.cc)
  // through the same "backend answer" taps (the cache's own store aside)
  // and the client's size limit as a backend answer. `latency_us`: how long
  // the client has waited (0 for a hit; the timeout for an answer given on
  // a backend timeout), for the `cache` histogram and response rules.
  AnswerResult deliver_cached(QueryView& q, uint64_t tags, const SockAddr& client,
                              const uint8_t* answer, size_t size, uint64_t now_ns, uint8_t* buffer,
                              size_t capacity, uint64_t latency_us = 0);

  // The worker whose cache counters this stage moves.
  void set_worker(unsigned index) { worker_ = index; }

  // SERVFAIL to the client's own question (its ID, name case, RD, CD and
  // EDNS facts), written to `buffer`; 0 when none could be made.
  size_t servfail(const InFlightQuery& q, const NetAddress& destination, uint8_t* buffer, size_t capacity);

  // The client's query as the query rules saw it, from its record: the
  // question with its name case, header flags and EDNS facts, rebuilt and
  // parsed; what a rebuilt packet cannot carry (its size, its EDNS option
  // codes) is copied over.
  bool rebuild_query_view(const InFlightQuery& q, const NetAddress& destination, QueryView& view);

  // RFC 6891 6.2.5: the largest UDP answer the client can reassemble.
  static size_t udp_answer_limit(const InFlightQuery& q) {
    return q.edns_present ? (q.edns_payload > 512 ? q.edns_payload : 512) : 512;
  }

 private:
  // A response hook's decision on the answer (`lua NAME` as a response
  // rule's action); a failed call keeps it.
  const uint8_t* apply_lua_response(const Verdict& v, const ResponseRuleSpec& rule, QueryView& q,
                                    const uint8_t* answer, size_t& size, uint8_t* buffer, size_t capacity,
                                    bool& used_buffer, const char*& outcome);
  const uint8_t* apply_response_rules(uint64_t tags, const SockAddr& client, uint32_t server, QueryView& q,
                                      uint64_t latency_us, const uint8_t* answer, size_t& size, uint8_t* buffer,
                                      size_t capacity, bool& used_buffer);
  // The cache store tap: the backend's answer kept in the pool's cache.
  void store_in_cache(const InFlightQuery& q, const NetAddress& destination, const uint8_t* answer, size_t size);

  WorkerCounters& counters_;
  const ActivePolicy* policy_ = nullptr;
  BlockRecorder* recorder_ = nullptr;
  DecisionState* state_ = nullptr;
  const Taps* taps_ = nullptr;
  lua::HookRuntime* lua_ = nullptr;  // this worker's state of the policy's hooks
  ResponseLogFn log_ = nullptr;
  void* log_context_ = nullptr;
  uint64_t now_ns_ = 0;
  QueryView view_;           // the client's query, rebuilt for response rules and truncation
  QueryView servfail_view_;  // servfail()'s own: it may run while view_ is in use
  QueryView expected_;       // expected_question()'s
  uint8_t synth_[kHeaderSize + kMaxNameLength + 4 + 11];
  unsigned worker_ = 0;
  QueryView cache_view_;  // store_in_cache()'s
  CacheKey cache_key_;
  alignas(8) uint8_t cache_answer_[4096];  // an answer as the cache keeps it (entry_size is at most 4088)
};

}  // namespace dnspc::runtime
