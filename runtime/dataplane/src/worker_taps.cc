// The lifecycle taps (taps.h) as the worker runs them, and what the taps do:
// the dynamic-block measure, and the rings of recent traffic (traffic_ring.h:
// one record per query decided, one per answer sent, backend or local; read
// by the control plane for top-N lists and grep, traffic_views.cc). The
// "backend answer" taps run in the answer stage (answer_stage.cc).
#include <cstring>

#include "dnspc/wire.h"
#include "worker.h"

namespace dnspc::runtime {

namespace {

void copy_lower(uint8_t* out, const uint8_t* wire, uint8_t length) {
  for (unsigned i = 0; i < length; ++i) {
    uint8_t c = wire[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
  }
}

}  // namespace

void Worker::bind_taps_for(const ActivePolicy& p) {
  bool cache = false;
  for (const BoundPool& pool : p.pools) cache = cache || pool.cache != nullptr;
  taps_ = bind_taps({p.blocks != nullptr, p.image->response_decide.fn != nullptr, rings_.queries.capacity() > 0, cache});
}

void Worker::tap_decided(const QueryView& q, const Verdict& v, bool blocked, uint32_t server) {
  for (Tap t : taps_[TapPoint::kDecided]) {
    switch (t) {
      case Tap::kRings:
        ring_query(q, v, blocked, server);
        break;
      default:
        break;
    }
  }
}

void Worker::tap_timed_out(const InFlightQuery& q) {
  for (Tap t : taps_[TapPoint::kTimedOut]) {
    switch (t) {
      default:  // none yet; the packet cache's stale answers will be one
        (void)q;
        break;
    }
  }
}

void Worker::record_answer(const AnswerFacts& a) {
  if (a.size < kHeaderSize) return;
  counters_.answers_by_source[static_cast<unsigned>(a.source)].add();
  counters_.answer_rcodes[a.answer[3] & 0x0f].add();
  for (Tap t : taps_[TapPoint::kAnswered]) {
    switch (t) {
      case Tap::kRings:
        ring_answer(a);
        break;
      default:
        break;
    }
  }
}

void Worker::ring_query(const QueryView& q, const Verdict& v, bool blocked, uint32_t server) {
  TrafficRing& ring = rings_.queries;
  TrafficRecord r;
  r.time_ns = now_ns_;
  r.client = q.source;
  r.rule = blocked ? v.rule - static_cast<uint32_t>(policy_->image->rules.size()) : deciding_rule_;
  r.block = blocked ? 1 : 0;
  r.server = server;
  r.qtype = q.qtype;
  r.size = q.size;
  r.action = static_cast<uint8_t>(v.action);
  r.transport = static_cast<uint8_t>(q.transport);
  r.qname_length = q.qname_length;
  std::memcpy(r.qname, q.qname_lower, q.qname_length);
  ring.push(r);
}

void Worker::ring_answer(const AnswerFacts& a) {
  TrafficRing& ring = rings_.answers;
  TrafficRecord r;
  r.time_ns = now_ns_;
  r.client = a.client;
  r.rule = a.rule;
  r.server = a.server;
  r.latency_us = a.latency_us;
  r.qtype = a.qtype;
  r.size = static_cast<uint16_t>(a.size);
  r.action = static_cast<uint8_t>(a.action);
  r.rcode = a.answer[3] & 0x0f;
  r.transport = static_cast<uint8_t>(a.transport);
  r.source = static_cast<uint8_t>(a.source);
  r.qname_length = a.qname_length;
  copy_lower(r.qname, a.qname, a.qname_length);
  ring.push(r);
}

}  // namespace dnspc::runtime
