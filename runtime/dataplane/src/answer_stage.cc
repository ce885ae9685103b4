// The answer stage, one for both transports. A backend answer matched to its
// query (the callers do that: by slot over UDP, by connection over TCP) is
// accepted (the client's ID, name case and RD/CD back; latency), passes the
// lifecycle taps at "backend answer" (dynamic-block measures, response
// rules), is cut to the client's size limit (UDP), recorded (rings) and sent.
// The callers release the query after.
#include <algorithm>
#include <cstring>

#include "dnspc/wire.h"
#include "worker.h"

namespace dnspc::runtime {

// The question an answer must echo (answer_matches reads only these).
const QueryView& Worker::expected_question(const InFlightQuery& q) {
  QueryView& v = view_;
  v.qname_length = q.qname_length;
  for (unsigned k = 0; k < q.qname_length; ++k) {
    uint8_t c = q.qname[k];
    v.qname_lower[k] = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
  }
  v.qtype = q.qtype;
  v.qclass = q.qclass;
  return v;
}

// The client's ID, name case and RD/CD bits back, the backend's latency and
// counters. Returns the latency in microseconds.
uint64_t Worker::accept_answer(Backend& b, uint8_t* packet, const InFlightQuery& q) {
  set_id(packet, q.client_id);
  if (packet[5] != 0) std::memcpy(packet + kHeaderSize, q.qname, q.qname_length);  // an error may have no question
  set_flag(packet, header_bits::kRD, (q.client_flags & header_bits::kRD) != 0);
  set_flag(packet, header_bits::kCD, (q.client_flags & header_bits::kCD) != 0);
  const uint64_t latency_us = (now_ns_ > q.sent_ns ? now_ns_ - q.sent_ns : 0) / 1000;
  b.latency_us = b.latency_us == 0 ? static_cast<uint32_t>(latency_us)
                                   : static_cast<uint32_t>((7ull * b.latency_us + latency_us) / 8);
  b.counters->latency_ewma_us.set(b.latency_us);
  b.counters->latency.record(latency_us);
  (q.transport == Transport::kUdp ? counters_.latency_udp : counters_.latency_tcp).record(latency_us);
  b.counters->answers.add();
  counters_.backend_answers.add();
  return latency_us;
}

void Worker::deliver_answer(Backend& b, const InFlightQuery& q, uint8_t* packet, size_t size) {
  const uint64_t latency_us = accept_answer(b, packet, q);
  const uint8_t* out = tap_backend_answer(q, latency_us, packet, size);
  if (out && q.transport == Transport::kUdp && size > udp_answer_limit(q)) out = truncate_for_client(q, size);
  if (!out) {
    // A response rule dropped it; a TCP client learns by its connection ending.
    if (q.tcp) end_tcp_client_after_drop(*q.tcp);
    return;
  }
  send_answer(q, out, size, true);
  record_answer({q.qname, q.qname_length, q.qtype, q.client_address(), q.transport, out, size,
                 static_cast<uint32_t>(latency_us), q.server, q.rule, ActionKind::kPool, AnswerSource::kBackend});
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
  // The client's own question (its ID, name case, RD, CD and EDNS facts)
  // answered SERVFAIL. Its own view: this may run inside process_query
  // (a TCP forward that fails at once), whose view_ must stay as it is.
  QueryView& v = servfail_view_;
  if (!rebuild_query_view(q, v)) return false;
  uint8_t* out = local_buffer();
  const size_t n = build_rcode_answer(v, rcode::kServFail, out, kLocalAnswerSize);
  if (!n) return false;
  send_answer(q, out, n, false);
  record_answer({q.qname, q.qname_length, q.qtype, q.client_address(), q.transport, out, n, 0, q.server, q.rule,
                 ActionKind::kPool, source});
  return true;
}

// RFC 6891 6.2.5: the client's payload size is the largest answer it can
// reassemble (512 without EDNS). A backend that answers larger (one that
// ignores the size, or a forwarded query we changed) would send the client
// a datagram it cannot take; it gets TC=1 and retries over TCP, as from a
// server that honours the size.
size_t Worker::udp_answer_limit(const InFlightQuery& q) {
  return q.edns_present ? std::max<size_t>(512, q.edns_payload) : 512;
}

const uint8_t* Worker::truncate_for_client(const InFlightQuery& q, size_t& size) {
  counters_.truncated_for_client.add();
  QueryView& v = view_;
  if (!rebuild_query_view(q, v)) return nullptr;
  uint8_t* out = local_buffer();
  size = build_truncated_answer(v, out, kLocalAnswerSize);
  return size ? out : nullptr;
}

}  // namespace dnspc::runtime
