// The packet cache's DNS side: which queries it keys and how, which answers
// it keeps and for how long, and how a kept answer becomes the answer to a
// new query (docs/cache.md). The store itself is packet_cache.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dnspc/packet_cache.h"
#include "dnspc/query_view.h"

namespace dnspc {

struct CacheTtls {
  uint32_t min_ttl = 0;              // record TTLs raised to this
  uint32_t max_ttl = 86400;          // and lowered to this
  uint32_t max_negative_ttl = 3600;  // NXDOMAIN / NODATA: min(SOA TTL, SOA MINIMUM), capped here
  uint32_t servfail_ttl = 0;         // 0: SERVFAIL is not kept
};

// The TTL a stale answer is served with (RFC 8767 recommends 30 s).
constexpr uint32_t kStaleAnswerTtl = 30;

// The key of `q`: lower-cased name, type, class, RD, CD, DO, EDNS presence
// and payload class. False when the query is not cached at all: not a
// QUERY, AXFR or IXFR, an ECS option, an EDNS version above 0. `rd` and
// `cd`: the bits as the backend gets them (no_recurse, set_cd change them).
bool make_cache_key(const QueryView& q, bool rd, bool cd, CacheKey& key);
inline bool make_cache_key(const QueryView& q, CacheKey& key) {
  return make_cache_key(q, q.has_flag(header_bits::kRD), q.has_flag(header_bits::kCD), key);
}

enum class CacheRefusal : uint8_t {
  kNone,       // kept
  kMalformed,  // not a one-question answer the walker could read
  kTruncated,  // TC=1
  kRcode,      // not NOERROR / NXDOMAIN (or SERVFAIL with servfail_ttl)
  kNoTtl,      // a negative answer without SOA, or a TTL of 0
  kTooLarge,   // over the entry size
  kSigned,     // TSIG / SIG(0): bound to one exchange
};

struct PreparedAnswer {
  CacheRefusal refusal = CacheRefusal::kNone;
  uint32_t lifetime_s = 0;
  size_t size = 0;  // bytes in `out`
};

// Copies a backend's `answer` to `out` as the cache keeps it: ID 0, record
// TTLs within the bounds (a negative answer's capped at its lifetime), the
// OPT record's options dropped (a cookie is one client's), and the lifetime
// the entry gets.
PreparedAnswer prepare_cache_answer(const uint8_t* answer, size_t size, const CacheTtls& ttls,
                                    uint8_t* out, size_t capacity);

// Turns a kept answer (in place) into the answer to `q`: its ID, its name
// as the client spelt it, its RD and CD, TTLs lowered by `age_s` (never below 0); a stale
// one gets kStaleAnswerTtl at most. False when it cannot be read (a miss).
bool serve_cache_answer(uint8_t* answer, size_t size, const QueryView& q, uint32_t age_s,
                        bool stale);

// Key bytes as make_cache_key lays them out, for purges: the name (wire,
// lower case) and the type.
struct CacheKeyView {
  const uint8_t* name;
  size_t name_length;
  uint16_t qtype;
};
bool read_cache_key(const uint8_t* key, size_t size, CacheKeyView& out);

const char* cache_refusal_name(CacheRefusal r);

}  // namespace dnspc
