#include "dnspc/runtime/answer_stage.h"

#include "dnspc/lua/hook_runtime.h"

#include <algorithm>
#include <cstring>

#include "dnspc/dynblock_recorder.h"
#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"
#include "dnspc/wire.h"

namespace dnspc::runtime {

const QueryView& AnswerStage::expected_question(const InFlightQuery& q) {
  QueryView& v = expected_;
  v.qname_length = q.qname_length;
  for (unsigned k = 0; k < q.qname_length; ++k) {
    uint8_t c = q.qname[k];
    v.qname_lower[k] = (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
  }
  v.qtype = q.qtype;
  v.qclass = q.qclass;
  return v;
}

AnswerResult AnswerStage::deliver(const InFlightQuery& q, uint8_t* packet, size_t size, uint64_t now_ns,
                                  const NetAddress& destination, ServerCounters& server, uint32_t& ewma_us,
                                  uint8_t* buffer, size_t capacity) {
  now_ns_ = now_ns;
  AnswerResult r;
  // Accept: the client's ID, name case and RD/CD bits back.
  set_id(packet, q.client_id);
  if (packet[5] != 0) std::memcpy(packet + kHeaderSize, q.qname, q.qname_length);  // an error may have no question
  set_flag(packet, header_bits::kRD, (q.client_flags & header_bits::kRD) != 0);
  set_flag(packet, header_bits::kCD, (q.client_flags & header_bits::kCD) != 0);
  r.latency_us = (now_ns > q.sent_ns ? now_ns - q.sent_ns : 0) / 1000;
  ewma_us = ewma_us == 0 ? static_cast<uint32_t>(r.latency_us)
                         : static_cast<uint32_t>((7ull * ewma_us + r.latency_us) / 8);
  server.latency_ewma_us.set(ewma_us);
  server.latency.record(r.latency_us);
  (q.transport == Transport::kUdp ? counters_.latency_udp : counters_.latency_tcp).record(r.latency_us);
  if (q.transport != Transport::kUdp) {
    server.tcp_answers.add();
    server.tcp_latency_sum_us.add(r.latency_us);
  }
  server.answers.add();
  counters_.backend_answers.add();

  // The taps at "backend answer", in their bound order.
  const uint8_t* out = packet;
  for (Tap t : (*taps_)[TapPoint::kBackendAnswer]) {
    switch (t) {
      case Tap::kBlockMeasure:
        if (recorder_) recorder_->record_response(q.client_address(), packet[3] & 0x0f, static_cast<uint32_t>(size));
        break;
      case Tap::kResponseRules:
        // Response rules see the client's query as the query rules did: its
        // ID and its own RD and CD (no_recurse and set_cd changed what we sent).
        if (rebuild_query_view(q, destination, view_)) {
          out = apply_response_rules(q.tags, q.client, q.server, view_, r.latency_us, out, size, buffer, capacity,
                                     r.used_buffer);
        }
        break;
      case Tap::kCacheStore:
        if (q.cache_pool) store_in_cache(q, destination, packet, size);
        break;
      default:
        break;
    }
    if (!out) return r;  // dropped: later taps have nothing to see
  }

  // The client's size limit. A backend that answers larger (one that
  // ignores the size, or a query we changed) would send a datagram the
  // client cannot take; it gets TC=1 and retries over TCP.
  if (q.transport == Transport::kUdp && size > udp_answer_limit(q)) {
    counters_.truncated_for_client.add();
    if (!rebuild_query_view(q, destination, view_)) return r;
    size = build_truncated_answer(view_, buffer, capacity);
    out = size ? buffer : nullptr;
    r.used_buffer = out != nullptr;
  }
  r.data = out;
  r.size = out ? size : 0;
  return r;
}

AnswerResult AnswerStage::deliver_cached(QueryView& q, uint64_t tags, const SockAddr& client,
                                         const uint8_t* answer, size_t size, uint64_t now_ns,
                                         uint8_t* buffer, size_t capacity, uint64_t latency_us) {
  now_ns_ = now_ns;
  AnswerResult r;
  r.latency_us = latency_us;
  // A hit: within the batch (the first bound). On a timeout: how long the client waited.
  counters_.latency_cache.record(latency_us);
  const uint8_t* out = answer;
  for (Tap t : (*taps_)[TapPoint::kBackendAnswer]) {
    switch (t) {
      case Tap::kBlockMeasure:
        if (recorder_) recorder_->record_response(q.source, answer[3] & 0x0f, static_cast<uint32_t>(size));
        break;
      case Tap::kResponseRules:
        out = apply_response_rules(tags, client, UINT32_MAX /* no server */, q, latency_us, out,
                                   size, buffer, capacity, r.used_buffer);
        break;
      default:
        break;
    }
    if (!out) return r;
  }
  if (q.transport == Transport::kUdp && size > client_answer_limit(q)) {
    counters_.truncated_for_client.add();
    size = build_truncated_answer(q, buffer, capacity);
    out = size ? buffer : nullptr;
    r.used_buffer = out != nullptr;
  }
  r.data = out;
  r.size = out ? size : 0;
  return r;
}

void AnswerStage::store_in_cache(const InFlightQuery& q, const NetAddress& destination, const uint8_t* answer,
                                 size_t size) {
  const ActivePolicy& p = *policy_;
  // A query forwarded under another policy: its pool index may name another pool.
  if (q.cache_generation != static_cast<uint32_t>(p.generation) || q.cache_pool > p.pools.size()) return;
  PoolCache* cache = p.pools[q.cache_pool - 1u].cache.get();
  if (!cache) return;
  CacheCounters& c = cache->counters[worker_ % cache->workers];
  if (!rebuild_query_view(q, destination, cache_view_) ||
      !make_cache_key(cache_view_, q.cache_flags & 1, q.cache_flags & 2, cache_key_)) {
    return;
  }
  const PreparedAnswer prepared = prepare_cache_answer(answer, size, cache->ttls, cache_answer_,
                                                       std::min<size_t>(sizeof cache_answer_, cache->spec.entry_size));
  if (prepared.refusal != CacheRefusal::kNone) {
    c.not_cacheable.add();
    return;
  }
  cache->store.hash_key(cache_key_);
  switch (cache->store.insert(cache_key_, cache_answer_, prepared.size, now_ns_,
                              uint64_t{prepared.lifetime_s} * 1'000'000'000, cache->stale_ns)) {
    case CacheStore::kStored: c.stored.add(); break;
    case CacheStore::kEvicted: c.stored.add(), c.evictions.add(); break;
    case CacheStore::kBusy: c.insert_failures.add(); break;
    case CacheStore::kTooLarge: c.not_cacheable.add(); break;
  }
}

size_t AnswerStage::servfail(const InFlightQuery& q, const NetAddress& destination, uint8_t* buffer,
                             size_t capacity) {
  QueryView& v = servfail_view_;
  if (!rebuild_query_view(q, destination, v)) return 0;
  return build_rcode_answer(v, rcode::kServFail, buffer, capacity);
}

bool AnswerStage::rebuild_query_view(const InFlightQuery& s, const NetAddress& destination, QueryView& q) {
  uint8_t* o = synth_;
  set_id(o, s.client_id);
  o[2] = static_cast<uint8_t>(s.client_flags >> 8);
  o[3] = static_cast<uint8_t>(s.client_flags);
  o[4] = 0, o[5] = 1, o[6] = 0, o[7] = 0, o[8] = 0, o[9] = 0, o[10] = 0;
  o[11] = s.edns_present ? 1 : 0;
  size_t n = kHeaderSize;
  std::memcpy(o + n, s.qname, s.qname_length);
  n += s.qname_length;
  o[n++] = static_cast<uint8_t>(s.qtype >> 8);
  o[n++] = static_cast<uint8_t>(s.qtype);
  o[n++] = static_cast<uint8_t>(s.qclass >> 8);
  o[n++] = static_cast<uint8_t>(s.qclass);
  if (s.edns_present) {
    const uint8_t opt[11] = {0, 0, 41, static_cast<uint8_t>(s.edns_payload >> 8), static_cast<uint8_t>(s.edns_payload),
                             0, s.edns_version, static_cast<uint8_t>(s.edns_do ? 0x80 : 0), 0, 0, 0};
    std::memcpy(o + n, opt, sizeof opt);
    n += sizeof opt;
  }
  if (parse_query(o, n, s.transport, q) != ParseError::kOk) return false;
  q.size = s.query_size;
  q.edns_option_bits = s.edns_option_bits;
  q.source = s.client_address();
  q.destination = destination;
  return true;
}

const uint8_t* AnswerStage::apply_lua_response(const Verdict& v, const ResponseRuleSpec& rule, QueryView& q,
                                               const uint8_t* answer, size_t& size, uint8_t* buffer,
                                               size_t capacity, bool& used_buffer, const char*& outcome) {
  const PolicyImage& image = *policy_->image;
  if (lua_ == nullptr || v.argument >= image.lua.response_uses.size()) return answer;
  lua::HookQuery hook_query;
  hook_query.view = &q;
  hook_query.rule = rule.name;
  hook_query.tags = state_->tags;
  const lua::AnswerVerdict decided = lua_->response(image.lua.response_uses[v.argument], hook_query, state_->response);
  state_->tags = hook_query.tags;
  using K = lua::AnswerVerdict::Kind;
  switch (decided.kind) {
    case K::kKeep:
      outcome = "answered (lua kept)";
      return answer;
    case K::kDrop:
      outcome = "response dropped (lua)";
      return nullptr;
    case K::kTruncate:
      if (q.transport == Transport::kTcp) {  // TC=1 means nothing over TCP: as a truncate rule, kept
        outcome = "answered (lua truncate over tcp: kept)";
        return answer;
      }
      size = build_truncated_answer(q, buffer, capacity);
      used_buffer = size != 0;
      outcome = "response truncated (lua)";
      return size ? buffer : nullptr;
    case K::kRcode:
      size = build_rcode_answer(q, decided.rcode, buffer, capacity);
      used_buffer = size != 0;
      outcome = "response replaced (lua)";
      return size ? buffer : nullptr;
  }
  return answer;
}

// Every matching rule up to the first with a terminal action tags and logs;
// that rule drops the answer, truncates it or replaces it with an empty one
// of its rcode (the protocol is in policy_image.h, at response_decide).
const uint8_t* AnswerStage::apply_response_rules(uint64_t tags, const SockAddr& client, uint32_t server, QueryView& q,
                                                 uint64_t latency_us, const uint8_t* answer, size_t& size,
                                                 uint8_t* buffer, size_t capacity, bool& used_buffer) {
  const ActivePolicy& p = *policy_;
  const PolicyImage& image = *p.image;
  DecisionState& st = *state_;
  st.now_ns = now_ns_;
  st.tags = tags;  // saved when forwarded: rule indices change with a reload
  st.response.latency_us = latency_us;
  st.response.size = static_cast<uint32_t>(size);
  st.response.rcode = answer_rcode(answer, size);
  st.response.answers = size >= kHeaderSize ? static_cast<uint16_t>(answer[6] << 8 | answer[7]) : 0;
  st.first_rule = 0;
  for (;;) {
    const Verdict v = image.response_decide(q, st);
    if (v.rule >= image.response_rules.size()) return answer;
    const ResponseRuleSpec& r = image.response_rules[v.rule];
    if (v.rule < p.response_rule_ids.size()) counters_.rule_hits[p.response_rule_ids[v.rule]].add();
    if ((v.modifiers & modifier_bits::kTag) && r.tag_bits) {
      st.tags |= r.tag_bits;  // later rules' `tagged` see them
      for (uint64_t bits = r.tag_bits; bits; bits &= bits - 1) {
        unsigned bit = static_cast<unsigned>(__builtin_ctzll(bits));
        if (bit < p.tag_ids.size()) counters_.tag_hits[p.tag_ids[bit]].add();
      }
    }
    const char* outcome = "answered";
    const uint8_t* out = answer;
    if (v.action != ActionKind::kAllow) {
      counters_.response_actions[static_cast<unsigned>(v.action) % kActionKindCount].add();
      switch (v.action) {
        case ActionKind::kDrop:
          out = nullptr;
          outcome = "response dropped";
          break;
        case ActionKind::kTruncate:
          size = build_truncated_answer(q, buffer, capacity);
          out = size ? buffer : nullptr;
          used_buffer = out != nullptr;
          outcome = "response truncated";
          break;
        case ActionKind::kRcode:
          size = build_rcode_answer(q, static_cast<uint8_t>(v.argument), buffer, capacity);
          out = size ? buffer : nullptr;
          used_buffer = out != nullptr;
          outcome = "response replaced";
          break;
        case ActionKind::kLua:
          out = apply_lua_response(v, r, q, answer, size, buffer, capacity, used_buffer, outcome);
          break;
        default:
          break;
      }
    }
    if ((v.modifiers & modifier_bits::kLog) && log_) log_(log_context_, q, client, v, outcome, server, r);
    if (v.action != ActionKind::kAllow) return out;
    st.first_rule = v.rule + 1;
  }
}

}  // namespace dnspc::runtime
