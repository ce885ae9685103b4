// Answers dnspc makes itself. Layout: the client's header and question, the
// answer records, then our OPT record when the client sent one.
#include <algorithm>
#include <cstring>

#include "dnspc/wire.h"
#include "wire_bytes.h"

namespace dnspc {

using namespace wire_detail;

namespace {

constexpr size_t kOptSize = 11;  // root name, type, class, ttl, rdlength
constexpr uint16_t kPointerToQuestion = 0xc00c;
constexpr size_t kMaxCharacterString = 255;

// An answer under construction; `limit` already leaves room for the OPT.
struct AnswerWriter {
  uint8_t* out;
  size_t limit;
  size_t len;
  uint16_t answers = 0;
  bool truncated = false;
};

bool badvers(const QueryView& q) { return q.edns_present && q.edns_version > 0; }

// Copies the header and question with answer flags and reserves the OPT.
// Returns false when `cap` cannot hold that much.
bool start_answer(const QueryView& q, uint8_t rc, uint8_t* out, size_t cap, AnswerWriter& w) {
  size_t opt = q.edns_present ? kOptSize : 0;
  size_t limit = std::min(cap, client_answer_limit(q));
  if (q.question_end + opt > limit) return false;
  std::memcpy(out, q.packet, q.question_end);
  uint16_t keep = q.flags & (header_bits::kOpcodeMask | header_bits::kRD | header_bits::kCD);
  // RA follows the client's RD, as dnsdist's own answers: behind
  // authoritative servers (RA=0) an RD=0 client then sees the same header
  // from us as from them, and a resolver's client sees recursion offered.
  uint16_t ra = (q.flags & header_bits::kRD) ? header_bits::kRA : 0;
  uint16_t flags = keep | header_bits::kQR | ra | (rc & header_bits::kRcodeMask);
  put16(out + 2, flags);
  put16(out + 4, q.question_end > kHeaderSize ? 1 : 0);  // no question: a FORMERR for QDCOUNT 0
  put16(out + 6, 0);
  put16(out + 8, 0);
  put16(out + 10, 0);
  w = AnswerWriter{out, limit - opt, q.question_end};
  return true;
}

size_t finish_answer(const QueryView& q, AnswerWriter& w, uint16_t extended_rcode) {
  put16(w.out + 6, w.answers);
  if (w.truncated) put16(w.out + 2, get16(w.out + 2) | header_bits::kTC);
  if (q.edns_present) {
    uint8_t* o = w.out + w.len;
    o[0] = 0;
    put16(o + 1, qtype::kOPT);
    put16(o + 3, kOwnEdnsPayload);
    o[5] = static_cast<uint8_t>(extended_rcode >> 4);  // upper 8 bits of the 12-bit rcode
    o[6] = 0;                                          // we speak EDNS version 0
    o[7] = q.edns_do ? 0x80 : 0;
    o[8] = 0;
    put16(o + 9, 0);  // no options echoed
    w.len += kOptSize;
    put16(w.out + 10, 1);
  }
  return w.len;
}

// Appends one record owned by the question name; on overflow, marks the
// answer truncated and drops every record, as a client must then retry.
void add_record(AnswerWriter& w, const QueryView& q, const SpoofRecord& r) {
  if (w.truncated) return;
  size_t rdlen = r.data.size();
  if (r.type == qtype::kTXT) rdlen = r.data.size() + std::max<size_t>(1, (r.data.size() + 254) / 255);
  size_t need = 12 + rdlen;  // name pointer, type, class, ttl, rdlength
  if (rdlen > UINT16_MAX || w.limit - w.len < need) {
    w.truncated = true;
    w.len = q.question_end;
    w.answers = 0;
    return;
  }
  uint8_t* o = w.out + w.len;
  put16(o, kPointerToQuestion);
  put16(o + 2, r.type);
  put16(o + 4, q.qclass);
  put32(o + 6, r.ttl);
  put16(o + 10, static_cast<uint16_t>(rdlen));
  o += 12;
  if (r.type == qtype::kTXT) {
    size_t pos = 0;
    do {
      size_t chunk = std::min(kMaxCharacterString, r.data.size() - pos);
      *o++ = static_cast<uint8_t>(chunk);
      if (chunk) std::memcpy(o, r.data.data() + pos, chunk);  // an empty span may hold no pointer
      o += chunk;
      pos += chunk;
    } while (pos < r.data.size());
  } else if (!r.data.empty()) {
    std::memcpy(o, r.data.data(), r.data.size());
  }
  w.len += need;
  ++w.answers;
}

bool record_fits_question(uint16_t record_type, uint16_t question_type) {
  if (record_type == question_type) return true;
  return question_type == qtype::kANY && (record_type == qtype::kA || record_type == qtype::kAAAA);
}

}  // namespace

size_t client_answer_limit(const QueryView& q) {
  if (q.transport == Transport::kTcp) return UINT16_MAX;
  if (!q.edns_present) return 512;
  return std::max<size_t>(512, q.edns_payload);
}

size_t build_rcode_answer(const QueryView& q, uint8_t rc, uint8_t* out, size_t cap) {
  AnswerWriter w{};
  bool bv = badvers(q);
  if (!start_answer(q, bv ? 0 : rc, out, cap, w)) return 0;
  return finish_answer(q, w, bv ? rcode::kBadVers : 0);
}

size_t build_truncated_answer(const QueryView& q, uint8_t* out, size_t cap) {
  if (badvers(q)) return build_rcode_answer(q, 0, out, cap);
  AnswerWriter w{};
  if (!start_answer(q, rcode::kNoError, out, cap, w)) return 0;
  w.truncated = true;
  return finish_answer(q, w, 0);
}

size_t build_spoof_answer(const QueryView& q, std::span<const SpoofRecord> records, uint8_t* out,
                          size_t cap) {
  if (badvers(q)) return build_rcode_answer(q, 0, out, cap);
  AnswerWriter w{};
  if (!start_answer(q, rcode::kNoError, out, cap, w)) return 0;
  bool any = false;
  for (const SpoofRecord& r : records) {
    if (record_fits_question(r.type, q.qtype)) {
      add_record(w, q, r);
      any = true;
    }
  }
  // A name that is an alias answers every type with its CNAME.
  if (!any) {
    for (const SpoofRecord& r : records) {
      if (r.type == qtype::kCNAME) {
        add_record(w, q, r);
        break;
      }
    }
  }
  return finish_answer(q, w, 0);
}

void set_id(uint8_t* packet, uint16_t id) { put16(packet, id); }
uint16_t read_id(const uint8_t* packet) { return get16(packet); }

void set_flag(uint8_t* packet, uint16_t bit, bool on) {
  uint16_t flags = get16(packet + 2);
  put16(packet + 2, on ? (flags | bit) : (flags & ~bit));
}

}  // namespace dnspc
