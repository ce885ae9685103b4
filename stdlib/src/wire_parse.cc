// Query parsing: one pass over the packet, bounds checked at every step.
#include <cstring>

#include "dnspc/wire.h"
#include "wire_bytes.h"

namespace dnspc {

using namespace wire_detail;

const char* parse_error_name(ParseError e) {
  switch (e) {
    case ParseError::kOk: return "ok";
    case ParseError::kTooShort: return "too_short";
    case ParseError::kNotAQuery: return "not_a_query";
    case ParseError::kQuestionCount: return "question_count";
    case ParseError::kLabelTooLong: return "label_too_long";
    case ParseError::kNameTooLong: return "name_too_long";
    case ParseError::kBadLabelType: return "bad_label_type";
    case ParseError::kCompressedQuestion: return "compressed_question";
    case ParseError::kCountsPastEnd: return "counts_past_end";
    case ParseError::kBadOpt: return "bad_opt";
  }
  return "unknown";
}

namespace {

constexpr uint16_t kTypeOpt = 41;
constexpr size_t kRecordFixedPart = 10;  // type, class, ttl, rdlength

// Skips an owner name outside the question, where compression is legal.
// Returns the offset after it, or 0 when it runs past the end or is malformed.
size_t skip_name(const uint8_t* p, size_t n, size_t off) {
  size_t total = 0;
  while (off < n) {
    uint8_t len = p[off];
    if ((len & 0xc0) == 0xc0) return off + 2 <= n ? off + 2 : 0;
    if (len & 0xc0) return 0;
    if (len == 0) return off + 1;
    total += len + 1u;
    if (total + 1 > kMaxNameLength) return 0;
    off += len + 1u;
  }
  return 0;
}

ParseError parse_ecs(const uint8_t* d, size_t len, QueryView& v) {
  if (len < 4) return ParseError::kBadOpt;
  uint16_t family = get16(d);
  uint8_t source = d[2];
  size_t max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
  if (max_bits == 0 || source > max_bits || d[3] > max_bits) return ParseError::kBadOpt;
  size_t addr_len = (source + 7u) / 8u;
  if (len != 4 + addr_len) return ParseError::kBadOpt;
  v.ecs_present = 1;
  v.ecs_family = family == 1 ? AddressFamily::kIPv4 : AddressFamily::kIPv6;
  v.ecs_source_prefix = source;
  v.ecs_scope_prefix = d[3];
  std::memcpy(v.ecs_address, d + 4, addr_len);
  return ParseError::kOk;
}

ParseError parse_opt(const uint8_t* p, size_t rr, size_t rdata, size_t rdlen, QueryView& v) {
  if (v.edns_present) return ParseError::kBadOpt;  // at most one OPT (RFC 6891 6.1.1)
  if (p[rr] != 0) return ParseError::kBadOpt;      // owner must be the root
  v.edns_present = 1;
  v.opt_offset = static_cast<uint16_t>(rr);
  v.edns_payload = get16(p + rr + 3);
  v.edns_version = p[rr + 6];
  v.edns_do = (p[rr + 7] & 0x80) ? 1 : 0;
  size_t off = rdata, end = rdata + rdlen;
  while (off < end) {
    if (end - off < 4) return ParseError::kBadOpt;
    uint16_t code = get16(p + off);
    uint16_t len = get16(p + off + 2);
    off += 4;
    if (end - off < len) return ParseError::kBadOpt;
    if (v.edns_option_count < kMaxRecordedEdnsOptions) v.edns_options[v.edns_option_count] = code;
    if (code < 64) v.edns_option_bits |= uint64_t{1} << code;
    if (v.edns_option_count < 255) ++v.edns_option_count;
    if (code == kEdnsOptionEcs) {
      if (v.ecs_present) return ParseError::kBadOpt;
      if (ParseError e = parse_ecs(p + off, len, v); e != ParseError::kOk) return e;
    }
    off += len;
  }
  return ParseError::kOk;
}

ParseError parse_question_name(const uint8_t* p, size_t n, size_t& off, QueryView& v) {
  unsigned out = 0;
  unsigned labels = 0;
  for (;;) {
    if (off >= n) return ParseError::kCountsPastEnd;
    uint8_t len = p[off];
    if ((len & 0xc0) == 0xc0) return ParseError::kCompressedQuestion;
    if (len & 0x80) return ParseError::kBadLabelType;
    if (len & 0x40) return ParseError::kLabelTooLong;
    if (len == 0) {
      v.qname_lower[out++] = 0;
      ++off;
      break;
    }
    if (out + 1u + len + 1u > kMaxNameLength) return ParseError::kNameTooLong;
    if (n - off < 1u + len) return ParseError::kCountsPastEnd;
    v.label_offsets[labels++] = static_cast<uint8_t>(out);
    v.qname_lower[out++] = len;
    uint8_t dot = 0;
    for (unsigned i = 0; i < len; ++i) {
      uint8_t c = p[off + 1 + i];
      dot |= c == '.';
      v.qname_lower[out++] = ascii_lower(c);
    }
    v.dot_in_label |= dot;
    off += 1u + len;
  }
  v.label_offsets[labels] = static_cast<uint8_t>(out - 1);  // the root byte
  v.qname_length = static_cast<uint8_t>(out);
  v.label_count = static_cast<uint8_t>(labels);
  return ParseError::kOk;
}

}  // namespace

ParseError parse_query(const uint8_t* p, size_t n, Transport transport, QueryView& v) {
  // Reset only what a previous packet may have set; the name arrays are
  // overwritten up to the lengths recorded, so clearing them is wasted work.
  std::memset(static_cast<void*>(&v), 0, offsetof(QueryView, qtype));
  v.transport = transport;
  v.opt_offset = 0;
  v.trailing = 0;
  v.dot_in_label = 0;

  if (n < kHeaderSize) return ParseError::kTooShort;
  if (n > UINT16_MAX) return ParseError::kCountsPastEnd;  // no DNS message is larger
  v.packet = p;
  v.size = static_cast<uint16_t>(n);
  v.id = get16(p);
  v.flags = get16(p + 2);
  v.qdcount = get16(p + 4);
  v.ancount = get16(p + 6);
  v.nscount = get16(p + 8);
  v.arcount = get16(p + 10);
  v.opcode = static_cast<uint8_t>((v.flags & header_bits::kOpcodeMask) >> header_bits::kOpcodeShift);
  v.rcode = static_cast<uint8_t>(v.flags & header_bits::kRcodeMask);
  if (v.flags & header_bits::kQR) return ParseError::kNotAQuery;
  // Without exactly one question there is nothing to decide on, but the
  // sender gets FORMERR (RFC 1035 4.1.1, RFC 8906), so question_end marks
  // the end of the header; with none, the OPT is still read below so that
  // the FORMERR speaks EDNS to an EDNS client.
  v.question_end = kHeaderSize;
  v.qname_length = 0;  // no name until one is parsed (a FORMERR has none)
  v.label_count = 0;
  v.qtype = v.qclass = 0;
  if (v.qdcount > 1) return ParseError::kQuestionCount;

  size_t off = kHeaderSize;
  if (v.qdcount == 1) {
    if (ParseError e = parse_question_name(p, n, off, v); e != ParseError::kOk) return e;
    if (n - off < 4) return ParseError::kCountsPastEnd;
    v.qtype = get16(p + off);
    v.qclass = get16(p + off + 2);
    off += 4;
    v.question_end = static_cast<uint16_t>(off);
  }

  // Walk the other sections to find the OPT record (additional section only).
  unsigned records = unsigned{v.ancount} + v.nscount + v.arcount;
  unsigned first_additional = unsigned{v.ancount} + v.nscount;
  for (unsigned i = 0; i < records; ++i) {
    size_t rr = off;
    size_t after_name = skip_name(p, n, off);
    if (after_name == 0) return ParseError::kCountsPastEnd;
    if (n - after_name < kRecordFixedPart) return ParseError::kCountsPastEnd;
    uint16_t type = get16(p + after_name);
    uint16_t rdlen = get16(p + after_name + 8);
    size_t rdata = after_name + kRecordFixedPart;
    if (n - rdata < rdlen) return ParseError::kCountsPastEnd;
    if (type == kTypeOpt) {
      if (i < first_additional) return ParseError::kBadOpt;
      if (after_name != rr + 1) return ParseError::kBadOpt;  // owner is not the root
      if (ParseError e = parse_opt(p, rr, rdata, rdlen, v); e != ParseError::kOk) return e;
    }
    off = rdata + rdlen;
  }
  v.trailing = static_cast<uint16_t>(n - off);
  return v.qdcount == 1 ? ParseError::kOk : ParseError::kQuestionCount;
}

size_t qname_text(const QueryView& q, char* out, size_t cap) {
  if (q.qname_length <= 1) {
    if (cap < 1) return 0;
    out[0] = '.';
    return 1;
  }
  size_t len = q.qname_length - 1u;
  if (cap < len) return 0;
  // Position i of the text is wire byte i + 1; length bytes become dots.
  unsigned next_label = 1;
  for (size_t i = 0; i < len; ++i) {
    size_t wire = i + 1;
    if (next_label <= q.label_count && wire == q.label_offsets[next_label]) {
      out[i] = '.';
      ++next_label;
    } else {
      out[i] = static_cast<char>(q.qname_lower[wire]);
    }
  }
  return len;
}

}  // namespace dnspc
