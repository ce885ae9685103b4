// libFuzzer target: the packet cache's key and store. A parsed query gives a
// key (make_cache_key); read_cache_key must give back its lower-case name and
// type. A backend answer (any bytes after the query) is prepared, stored
// under that key in a small PacketCache, looked up, served and purged: what
// comes back is what was stored, byte for byte, and never past the entry.
// Input: one control byte, a two-byte query length, the query, the answer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dnspc/cache_wire.h"
#include "dnspc/packet_cache.h"
#include "dnspc/wire.h"
#include "fuzz_query_input.h"

using fuzz_support::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dnspc;
  fuzz_support::QueryInput in;
  QueryView v;
  if (!fuzz_support::parse_query_input(data, size, in, v)) return 0;
  const uint8_t control = in.control;

  CacheKey key;
  if (!make_cache_key(v, (control & 2) != 0, (control & 4) != 0, key)) return 0;
  check(key.size <= kCacheKeyMax);
  for (size_t i = key.size; i < kCacheKeyMax; ++i) check(key.bytes[i] == 0);
  CacheKeyView kv;
  check(read_cache_key(key.bytes, key.size, kv));
  check(kv.qtype == v.qtype && kv.name_length == v.qname_length);
  check(std::memcmp(kv.name, v.qname_lower, kv.name_length) == 0);
  // Garbage keys are read without a fault.
  read_cache_key(data + 3, std::min<size_t>(size - 3, kCacheKeyMax), kv);

  static constexpr uint32_t kEntry = 1232;
  static PacketCache cache(16, kEntry, 0x5eed);
  cache.hash_key(key);
  std::vector<uint8_t> answer(in.rest, in.rest + in.rest_size);
  // The cache keeps only answers that matched their query (the answer path
  // checks first); an unmatched one could not be served as this query's.
  if (!answer_matches(answer.data(), answer.size(), v.id, v)) return 0;
  std::vector<uint8_t> prepared(kEntry);
  const PreparedAnswer p = prepare_cache_answer(answer.data(), answer.size(), CacheTtls{},
                                                prepared.data(), prepared.size());
  if (p.refusal != CacheRefusal::kNone) return 0;
  check(p.size <= kEntry);
  const uint64_t now = 1'000'000'000ull * (1 + (control >> 4));
  const CacheStore s =
      cache.insert(key, prepared.data(), p.size, now, p.lifetime_s * 1'000'000'000ull,
                   (control & 8) ? 60'000'000'000ull : 0);
  check(s == CacheStore::kStored || s == CacheStore::kEvicted);
  std::vector<uint8_t> out(kEntry + 8);
  const CacheLookup l = cache.lookup(key, now, false, out.data());
  if (p.lifetime_s > 0) {
    check(l.result == CacheFind::kFresh && l.size == p.size);
    check(std::memcmp(out.data(), prepared.data(), p.size) == 0);
    if (serve_cache_answer(out.data(), l.size, v, 0, false))
      check(answer_matches(out.data(), l.size, v.id, v));
  }
  // Purge by name and type, as the control thread does; the entry is gone.
  const uint64_t purged = cache.purge([&](const uint8_t* k, size_t n) {
    CacheKeyView e;
    return read_cache_key(k, n, e) && e.qtype == v.qtype && e.name_length == v.qname_length &&
           std::memcmp(e.name, v.qname_lower, e.name_length) == 0;
  });
  check(purged >= 1);
  check(cache.lookup(key, now, true, out.data()).result == CacheFind::kMiss);
  return 0;
}
