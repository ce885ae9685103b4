// Response rules on backend answers (the protocol is in policy_image.h, at
// response_decide): every matching rule up to the first with a terminal
// action tags and logs; that rule drops the answer, truncates it (UDP) or
// replaces it with an empty one of its rcode.
#include <cstring>

#include "dnspc/wire.h"
#include "worker.h"

namespace dnspc::runtime {

// The client's query as the query rules saw it, from what its slot kept: the
// question with its name case, header flags and EDNS facts, rebuilt and
// parsed; the facts a rebuilt packet cannot carry (its size, its EDNS
// options) are copied over.
bool Worker::rebuild_query_view(const InFlightQuery& s, QueryView& q) {
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
  q.destination = s.tcp                             ? s.tcp->destination
                  : s.listener < listeners_.size() ? listeners_[s.listener].address
                                                   : NetAddress{};
  return true;
}

const uint8_t* Worker::apply_response_rules(QueryView& q, uint64_t query_tags, uint64_t latency_us,
                                            const uint8_t* answer, size_t& size, const SockAddr& client,
                                            uint32_t server) {
  const ActivePolicy& p = *policy_;
  const PolicyImage& image = *p.image;
  DecisionState& st = state_;
  st.now_ns = now_ns_;
  st.tags = query_tags;  // saved when forwarded: rule indices change with a reload
  st.response.latency_us = latency_us;
  st.response.size = static_cast<uint32_t>(size);
  st.response.rcode = answer_rcode(answer, size);
  st.response.answers = size >= kHeaderSize ? static_cast<uint16_t>(answer[6] << 8 | answer[7]) : 0;
  st.response.first_rule = 0;
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
      uint8_t* local = nullptr;
      switch (v.action) {
        case ActionKind::kDrop:
          out = nullptr;
          outcome = "response dropped";
          break;
        case ActionKind::kTruncate:
          local = local_buffer();
          size = build_truncated_answer(q, local, kLocalAnswerSize);
          out = size ? local : nullptr;
          outcome = "response truncated";
          break;
        case ActionKind::kRcode:
          local = local_buffer();
          size = build_rcode_answer(q, static_cast<uint8_t>(v.argument), local, kLocalAnswerSize);
          out = size ? local : nullptr;
          outcome = "response replaced";
          break;
        default:  // Lua: refused at load
          break;
      }
    }
    if (v.modifiers & modifier_bits::kLog) log_query(q, client, v, outcome, server, &r);
    if (v.action != ActionKind::kAllow) return out;
    st.response.first_rule = v.rule + 1;
  }
}

}  // namespace dnspc::runtime
