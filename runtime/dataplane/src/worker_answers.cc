// A worker's side of the answer stage (answer_stage.h): backend answers run
// through the stage, then are recorded and sent; SERVFAILs for queries that
// got no answer. Both transports.
#include "dnspc/wire.h"
#include "worker.h"

namespace dnspc::runtime {

NetAddress Worker::destination_of(const InFlightQuery& q) const {
  if (q.tcp) return q.tcp->destination;
  return q.listener < listeners_.size() ? listeners_[q.listener].address : NetAddress{};
}

void Worker::log_response(void* context, const QueryView& q, const SockAddr& client, const Verdict& v,
                          const char* outcome, uint32_t server, const ResponseRuleSpec& rule) {
  static_cast<Worker*>(context)->log_query(q, client, v, outcome, server, &rule);
}

void Worker::deliver_answer(Backend& b, const InFlightQuery& q, uint8_t* packet, size_t size) {
  answer_stage_.bind(policy_, recorder_, &state_, &taps_, lua_);
  uint8_t* buffer = next_local_buffer();
  const AnswerResult r = answer_stage_.deliver(q, packet, size, now_ns_, destination_of(q), *b.counters,
                                               b.latency_us, buffer, kLocalAnswerSize);
  if (r.used_buffer) ++local_used_;  // kept until the batch is flushed
  if (!r.data) {
    // A response rule dropped it; a TCP client learns by its connection ending.
    if (q.tcp) end_tcp_client_after_drop(*q.tcp);
    return;
  }
  // Counted before it is sent, as reply() does: a client holding its answer
  // must find it in the counters (a scrape right after raced it before).
  record_answer({q.qname, q.qname_length, q.qtype, q.client_address(), q.transport, r.data, r.size,
                 static_cast<uint32_t>(r.latency_us), q.server, q.rule, ActionKind::kPool, AnswerSource::kBackend});
  send_answer(q, r.data, r.size, true);
}

void Worker::send_answer(const InFlightQuery& q, const uint8_t* data, size_t len, bool may_delay) {
  if (q.tcp) {
    tcp_send(*q.tcp, data, len);
  } else if (may_delay && q.delay_ms) {
    hold_answer(q.listener, q.client, q.client_len, data, len, q.delay_ms);
  } else if (q.listener < listeners_.size()) {
    answer_local(listeners_[q.listener], q.client, q.client_len, data, len);
  }
}

bool Worker::answer_servfail(const InFlightQuery& q, AnswerSource source) {
  uint8_t* out = next_local_buffer();
  const size_t n = answer_stage_.servfail(q, destination_of(q), out, kLocalAnswerSize);
  if (!n) return false;
  ++local_used_;
  record_answer({q.qname, q.qname_length, q.qtype, q.client_address(), q.transport, out, n, 0, q.server, q.rule,
                 ActionKind::kPool, source});
  send_answer(q, out, n, false);
  return true;
}

}  // namespace dnspc::runtime
