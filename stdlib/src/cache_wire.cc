#include "dnspc/cache_wire.h"

#include <algorithm>
#include <cstring>

#include "dnspc/wire.h"

namespace dnspc {

namespace {

constexpr uint16_t kTsig = 250, kSig = 24;

uint16_t rd16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void wr32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24), p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8), p[3] = static_cast<uint8_t>(v);
}

// Past a name at `off` (labels, ending in a root byte or a pointer); 0 when
// it runs off the end.
size_t skip_name(const uint8_t* p, size_t size, size_t off) {
  while (off < size) {
    const uint8_t len = p[off];
    if (len == 0) return off + 1;
    if ((len & 0xc0) == 0xc0) return off + 2 <= size ? off + 2 : 0;
    if (len & 0xc0) return 0;
    off += 1 + len;
  }
  return 0;
}

struct Record {
  size_t start, ttl_at, rdata_at;
  uint16_t type, rdlength;
};

// Calls f(record, section) for every record after the one question
// (section 0 answer, 1 authority, 2 additional); false when malformed.
template <class F>
bool walk(const uint8_t* p, size_t size, F&& f) {
  if (size < kHeaderSize || rd16(p + 4) != 1) return false;
  size_t off = skip_name(p, size, kHeaderSize);
  if (off == 0 || off + 4 > size) return false;
  off += 4;
  const unsigned counts[3] = {rd16(p + 6), rd16(p + 8), rd16(p + 10)};
  for (unsigned section = 0; section < 3; ++section) {
    for (unsigned i = 0; i < counts[section]; ++i) {
      Record r;
      r.start = off;
      off = skip_name(p, size, off);
      if (off == 0 || off + 10 > size) return false;
      r.type = rd16(p + off);
      r.ttl_at = off + 4;
      r.rdlength = rd16(p + off + 8);
      r.rdata_at = off + 10;
      off = r.rdata_at + r.rdlength;
      if (off > size) return false;
      if (!f(r, section)) return false;
    }
  }
  return true;
}

uint8_t payload_class(const QueryView& q) {
  if (!q.edns_present) return 0;
  if (q.edns_payload <= 512) return 1;
  if (q.edns_payload < 1232) return 2;
  return 3;
}

}  // namespace

bool make_cache_key(const QueryView& q, bool rd, bool cd, CacheKey& key) {
  if (q.opcode != opcode::kQuery || q.qtype == qtype::kAXFR || q.qtype == qtype::kIXFR)
    return false;
  if (q.ecs_present || (q.edns_option_bits & (1ull << kEdnsOptionEcs)) || q.edns_version != 0)
    return false;
  if (q.qname_length == 0 || q.qname_length > kMaxNameLength) return false;
  uint8_t* k = key.bytes;
  k[0] = static_cast<uint8_t>((rd ? 1 : 0) | (cd ? 2 : 0) | (q.edns_do ? 4 : 0) |
                              (q.edns_present ? 8 : 0) | payload_class(q) << 4);
  k[1] = static_cast<uint8_t>(q.qtype >> 8), k[2] = static_cast<uint8_t>(q.qtype);
  k[3] = static_cast<uint8_t>(q.qclass >> 8), k[4] = static_cast<uint8_t>(q.qclass);
  k[5] = q.qname_length;
  std::memcpy(k + 6, q.qname_lower, q.qname_length);
  key.size = static_cast<uint16_t>(6 + q.qname_length);
  // Zero padding to the word, which the hash and the comparison read.
  std::memset(k + key.size, 0, (8 - key.size % 8) % 8);
  return true;
}

bool read_cache_key(const uint8_t* key, size_t size, CacheKeyView& out) {
  if (size < 7 || key[5] + 6u != size) return false;
  out.name = key + 6;
  out.name_length = key[5];
  out.qtype = rd16(key + 1);
  return true;
}

PreparedAnswer prepare_cache_answer(const uint8_t* answer, size_t size, const CacheTtls& t,
                                    uint8_t* out, size_t capacity) {
  PreparedAnswer r;
  if (size < kHeaderSize) {
    r.refusal = CacheRefusal::kMalformed;
    return r;
  }
  if (answer[2] & 0x02) {
    r.refusal = CacheRefusal::kTruncated;
    return r;
  }
  if (size > capacity) {
    r.refusal = CacheRefusal::kTooLarge;
    return r;
  }
  const uint16_t rc = answer_rcode(answer, size);
  const bool servfail = rc == rcode::kServFail && t.servfail_ttl;
  if (rc != rcode::kNoError && rc != rcode::kNxDomain && !servfail) {
    r.refusal = CacheRefusal::kRcode;
    return r;
  }
  std::memcpy(out, answer, size);
  set_id(out, 0);
  const bool negative = rc == rcode::kNxDomain || (rc == rcode::kNoError && rd16(answer + 6) == 0);

  // First pass: what the answer is made of.
  uint32_t min_ttl = UINT32_MAX, negative_ttl = UINT32_MAX;
  bool signed_answer = false;
  size_t opt_rdata = 0, opt_rdlength = 0, opt_end = 0, last_end = 0;
  const bool ok = walk(out, size, [&](const Record& rec, unsigned section) {
    last_end = rec.rdata_at + rec.rdlength;
    if (rec.type == qtype::kOPT) {
      opt_rdata = rec.rdata_at, opt_rdlength = rec.rdlength, opt_end = last_end;
      return true;
    }
    if (rec.type == kTsig || rec.type == kSig) signed_answer = true;
    const uint32_t ttl = rd32(out + rec.ttl_at);
    min_ttl = std::min(min_ttl, std::clamp(ttl, t.min_ttl, std::max(t.min_ttl, t.max_ttl)));
    if (section == 1 && rec.type == qtype::kSOA && rec.rdlength >= 20) {
      // MINIMUM is the SOA's last field (RFC 2308 5: the lower of it and the TTL).
      negative_ttl = std::min(ttl, rd32(out + rec.rdata_at + rec.rdlength - 4));
    }
    return true;
  });
  if (!ok) {
    r.refusal = CacheRefusal::kMalformed;
    return r;
  }
  if (signed_answer) {
    r.refusal = CacheRefusal::kSigned;
    return r;
  }
  uint32_t lifetime;
  if (servfail) {
    lifetime = t.servfail_ttl;
  } else if (negative) {
    if (negative_ttl == UINT32_MAX) {
      r.refusal = CacheRefusal::kNoTtl;
      return r;
    }
    lifetime = std::min(std::max(negative_ttl, t.min_ttl), t.max_negative_ttl);
  } else {
    lifetime = min_ttl;
  }
  if (lifetime == 0 || lifetime == UINT32_MAX) {
    r.refusal = CacheRefusal::kNoTtl;
    return r;
  }

  // Second pass: the TTLs as served at age 0.
  walk(out, size, [&](const Record& rec, unsigned) {
    if (rec.type == qtype::kOPT) return true;
    uint32_t ttl = std::clamp(rd32(out + rec.ttl_at), t.min_ttl, std::max(t.min_ttl, t.max_ttl));
    if (negative || servfail) ttl = std::min(ttl, lifetime);
    wr32(out + rec.ttl_at, ttl);
    return true;
  });
  // The OPT's options (a server cookie answers one client's cookie; padding
  // was for one exchange) go, when OPT is last and removing them moves
  // nothing a pointer could refer to.
  if (opt_rdlength) {
    if (opt_end != last_end) {
      r.refusal = CacheRefusal::kMalformed;
      return r;
    }
    out[opt_rdata - 2] = 0, out[opt_rdata - 1] = 0;
    size = opt_rdata + (size - opt_end);
  }
  r.lifetime_s = lifetime;
  r.size = size;
  return r;
}

bool serve_cache_answer(uint8_t* answer, size_t size, const QueryView& q, uint32_t age_s,
                        bool stale) {
  if (size < kHeaderSize + q.qname_length || q.packet == nullptr) return false;
  set_id(answer, q.id);
  set_flag(answer, header_bits::kRD, q.has_flag(header_bits::kRD));
  set_flag(answer, header_bits::kCD, q.has_flag(header_bits::kCD));
  // The key matched the lower-cased name, so the lengths agree.
  std::memcpy(answer + kHeaderSize, q.packet + kHeaderSize, q.qname_length);
  return walk(answer, size, [&](const Record& rec, unsigned) {
    if (rec.type == qtype::kOPT) return true;
    const uint32_t ttl = rd32(answer + rec.ttl_at);
    uint32_t served = ttl > age_s ? ttl - age_s : 0;
    if (stale) served = std::min(ttl, kStaleAnswerTtl);
    wr32(answer + rec.ttl_at, served);
    return true;
  });
}

const char* cache_refusal_name(CacheRefusal r) {
  switch (r) {
    case CacheRefusal::kNone:
      return "stored";
    case CacheRefusal::kMalformed:
      return "malformed";
    case CacheRefusal::kTruncated:
      return "truncated";
    case CacheRefusal::kRcode:
      return "rcode";
    case CacheRefusal::kNoTtl:
      return "no_ttl";
    case CacheRefusal::kTooLarge:
      return "too_large";
    case CacheRefusal::kSigned:
      return "signed";
  }
  return "?";
}

}  // namespace dnspc
