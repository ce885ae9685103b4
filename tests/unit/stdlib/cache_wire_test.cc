// The packet cache's DNS side: what is keyed apart, what is kept and for how
// long, and a kept answer turned into the answer to another client's query.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "dnspc/cache_wire.h"
#include "dnspc/wire.h"

using namespace dnspc;

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8)), b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16)), put16(b, static_cast<uint16_t>(v));
}
void put_name(Bytes& b, const std::string& name) {
  uint8_t wire[256];
  const size_t n = encode_name(name, wire, sizeof wire);
  b.insert(b.end(), wire, wire + n);
}
uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

struct QueryOpts {
  bool rd = true, cd = false, edns = false, do_bit = false;
  uint16_t payload = 1232, qtype = 1, id = 0x1234;
  bool ecs = false;
};

Bytes query(const std::string& name, const QueryOpts& o) {
  Bytes b;
  put16(b, o.id);
  put16(b, static_cast<uint16_t>((o.rd ? header_bits::kRD : 0) | (o.cd ? header_bits::kCD : 0)));
  put16(b, 1), put16(b, 0), put16(b, 0), put16(b, o.edns ? 1 : 0);
  put_name(b, name);
  put16(b, o.qtype), put16(b, 1);
  if (o.edns) {
    b.push_back(0), put16(b, 41), put16(b, o.payload), b.push_back(0), b.push_back(0);
    put16(b, o.do_bit ? 0x8000 : 0);
    if (o.ecs) {
      put16(b, 11), put16(b, 8), put16(b, 7), put16(b, 1), b.push_back(24), b.push_back(0);
      b.push_back(192), b.push_back(0), b.push_back(2);
    } else {
      put16(b, 0);
    }
  }
  return b;
}

QueryView view_of(const Bytes& q) {
  QueryView v;
  REQUIRE(parse_query(q.data(), q.size(), Transport::kUdp, v) == ParseError::kOk);
  return v;
}

// NOERROR with two A records (TTL 300 and 60) and an OPT carrying a cookie;
// or NXDOMAIN with an SOA (TTL soa_ttl, MINIMUM soa_min).
Bytes answer(const std::string& name, uint8_t rc, uint32_t soa_ttl = 3600, uint32_t soa_min = 900,
             bool cookie = true) {
  Bytes b;
  put16(b, 0xbeef);
  put16(b, static_cast<uint16_t>(0x8000 | header_bits::kRD | rc));
  put16(b, 1), put16(b, rc == 0 ? 2 : 0), put16(b, rc == 0 ? 0 : 1), put16(b, 1);
  put_name(b, name);
  put16(b, 1), put16(b, 1);
  if (rc == 0) {
    for (uint32_t ttl : {300u, 60u}) {
      put16(b, 0xc00c), put16(b, 1), put16(b, 1), put32(b, ttl), put16(b, 4);
      put32(b, 0xc0000201);
    }
  } else {
    put16(b, 0xc00c), put16(b, 6), put16(b, 1), put32(b, soa_ttl);
    put16(b, 2 + 2 + 20), put16(b, 0xc00c), put16(b, 0xc00c);
    put32(b, 1), put32(b, 2), put32(b, 3), put32(b, 4), put32(b, soa_min);
  }
  b.push_back(0), put16(b, 41), put16(b, 1232), put32(b, 0);
  if (cookie) {
    put16(b, 12), put16(b, 10), put16(b, 8);
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(i));
  } else {
    put16(b, 0);
  }
  return b;
}

// TTLs of the records after the question, in order (OPT skipped).
std::vector<uint32_t> ttls(const uint8_t* p, size_t size) {
  QueryView v;
  std::vector<uint32_t> out;
  size_t off = kHeaderSize;
  while (p[off]) off += 1 + p[off];
  off += 5;
  const unsigned n = (p[6] << 8 | p[7]) + (p[8] << 8 | p[9]) + (p[10] << 8 | p[11]);
  for (unsigned i = 0; i < n && off < size; ++i) {
    off += 2;  // a pointer (the test answers use one per record) or the root
    if (p[off - 2] == 0) off -= 1;
    const uint16_t type = static_cast<uint16_t>(p[off] << 8 | p[off + 1]);
    if (type != 41) out.push_back(get32(p + off + 4));
    off += 10 + (p[off + 8] << 8 | p[off + 9]);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "cache keys: the name's case does not matter; RD, CD, DO, EDNS and its payload class do") {
  auto key = [](const Bytes& q) {
    CacheKey k;
    REQUIRE(make_cache_key(view_of(q), k));
    return std::string(reinterpret_cast<const char*>(k.bytes), k.size);
  };
  const std::string base = key(query("www.example.com", {}));
  REQUIRE(key(query("WwW.Example.COM", {})) == base);
  QueryOpts o;
  o.id = 99;
  REQUIRE(key(query("www.example.com", o)) == base);  // the ID is not part of it
  o = {}, o.rd = false;
  REQUIRE(key(query("www.example.com", o)) != base);
  o = {}, o.cd = true;
  REQUIRE(key(query("www.example.com", o)) != base);
  o = {}, o.edns = true;
  const std::string edns = key(query("www.example.com", o));
  REQUIRE(edns != base);
  o.do_bit = true;
  REQUIRE(key(query("www.example.com", o)) != edns);
  o = {}, o.edns = true, o.payload = 4096;
  REQUIRE(key(query("www.example.com", o)) == key(query("www.example.com", [] {
            QueryOpts p;
            p.edns = true, p.payload = 1400;
            return p;
          }())));
  o.payload = 512;
  REQUIRE(key(query("www.example.com", o)) != edns);
  o = {}, o.qtype = 28;
  REQUIRE(key(query("www.example.com", o)) != base);
}

TEST_CASE("not cached: ECS queries, AXFR and IXFR") {
  CacheKey k;
  QueryOpts o;
  o.edns = true, o.ecs = true;
  REQUIRE_FALSE(make_cache_key(view_of(query("www.example.com", o)), k));
  o = {}, o.qtype = qtype::kAXFR;
  REQUIRE_FALSE(make_cache_key(view_of(query("example.com", o)), k));
  o.qtype = qtype::kIXFR;
  REQUIRE_FALSE(make_cache_key(view_of(query("example.com", o)), k));
}

TEST_CASE("a positive answer lives for its smallest TTL within the bounds; the cookie goes") {
  const Bytes a = answer("www.example.com", 0);
  uint8_t out[1232];
  CacheTtls t;
  PreparedAnswer p = prepare_cache_answer(a.data(), a.size(), t, out, sizeof out);
  REQUIRE(p.refusal == CacheRefusal::kNone);
  REQUIRE(p.lifetime_s == 60);
  REQUIRE(p.size == a.size() - 12);  // the 12-byte cookie option
  REQUIRE(read_id(out) == 0);
  REQUIRE(ttls(out, p.size) == std::vector<uint32_t>{300, 60});
  t.min_ttl = 100, t.max_ttl = 200;
  p = prepare_cache_answer(a.data(), a.size(), t, out, sizeof out);
  REQUIRE(p.lifetime_s == 100);
  REQUIRE(ttls(out, p.size) == std::vector<uint32_t>{200, 100});
}

TEST_CASE("a negative answer lives for min(SOA TTL, MINIMUM), capped; none without an SOA") {
  uint8_t out[1232];
  CacheTtls t;
  t.max_negative_ttl = 5;
  Bytes a = answer("nx.example.com", rcode::kNxDomain, 3600, 900, false);
  PreparedAnswer p = prepare_cache_answer(a.data(), a.size(), t, out, sizeof out);
  REQUIRE(p.refusal == CacheRefusal::kNone);
  REQUIRE(p.lifetime_s == 5);
  REQUIRE(ttls(out, p.size) == std::vector<uint32_t>{5});
  t.max_negative_ttl = 3600;
  a = answer("nx.example.com", rcode::kNxDomain, 3600, 900, false);
  REQUIRE(prepare_cache_answer(a.data(), a.size(), t, out, sizeof out).lifetime_s == 900);
  a = answer("nx.example.com", rcode::kNxDomain, 30, 900, false);
  REQUIRE(prepare_cache_answer(a.data(), a.size(), t, out, sizeof out).lifetime_s == 30);
  // Without the SOA (authority count 0, its bytes cut), nothing says how long.
  Bytes bare = answer("nx.example.com", rcode::kNxDomain, 30, 900, false);
  bare[9] = 0;
  bare[11] = 0;
  bare.resize(kHeaderSize + 16 + 4);
  REQUIRE(prepare_cache_answer(bare.data(), bare.size(), t, out, sizeof out).refusal ==
          CacheRefusal::kNoTtl);
}

TEST_CASE("not kept: TC=1, REFUSED, SERVFAIL unless asked, answers over the entry size") {
  uint8_t out[1232];
  CacheTtls t;
  Bytes a = answer("www.example.com", 0);
  a[2] |= 0x02;
  REQUIRE(prepare_cache_answer(a.data(), a.size(), t, out, sizeof out).refusal ==
          CacheRefusal::kTruncated);
  a = answer("www.example.com", 0);
  a[3] = static_cast<uint8_t>((a[3] & 0xf0) | rcode::kRefused);
  REQUIRE(prepare_cache_answer(a.data(), a.size(), t, out, sizeof out).refusal ==
          CacheRefusal::kRcode);
  a[3] = static_cast<uint8_t>((a[3] & 0xf0) | rcode::kServFail);
  REQUIRE(prepare_cache_answer(a.data(), a.size(), t, out, sizeof out).refusal ==
          CacheRefusal::kRcode);
  t.servfail_ttl = 7;
  const PreparedAnswer p = prepare_cache_answer(a.data(), a.size(), t, out, sizeof out);
  REQUIRE(p.refusal == CacheRefusal::kNone);
  REQUIRE(p.lifetime_s == 7);
  a = answer("www.example.com", 0);
  REQUIRE(prepare_cache_answer(a.data(), a.size(), t, out, 40).refusal == CacheRefusal::kTooLarge);
}

TEST_CASE(
    "a hit gets the client's ID and name case, TTLs lowered by its age; stale ones get 30 s") {
  uint8_t stored[1232];
  const Bytes a = answer("www.example.com", 0);
  const PreparedAnswer p =
      prepare_cache_answer(a.data(), a.size(), CacheTtls{}, stored, sizeof stored);
  QueryOpts o;
  o.id = 0x4242;
  const Bytes q = query("WWW.exAMPLE.com", o);
  const QueryView v = view_of(q);
  uint8_t hit[1232];
  std::memcpy(hit, stored, p.size);
  REQUIRE(serve_cache_answer(hit, p.size, v, 45, false));
  REQUIRE(read_id(hit) == 0x4242);
  REQUIRE(std::memcmp(hit + kHeaderSize, q.data() + kHeaderSize, v.qname_length) == 0);
  REQUIRE(ttls(hit, p.size) == std::vector<uint32_t>{255, 15});
  std::memcpy(hit, stored, p.size);
  REQUIRE(serve_cache_answer(hit, p.size, v, 400, true));
  REQUIRE(ttls(hit, p.size) == std::vector<uint32_t>{30, 30});
}

TEST_CASE("cache key bytes read back for purges") {
  CacheKey k;
  QueryOpts o;
  o.qtype = 28;
  REQUIRE(make_cache_key(view_of(query("Www.Example.com", o)), k));
  CacheKeyView kv;
  REQUIRE(read_cache_key(k.bytes, k.size, kv));
  REQUIRE(kv.qtype == 28);
  uint8_t wire[256];
  const size_t n = encode_name("www.example.com", wire, sizeof wire);
  REQUIRE(kv.name_length == n);
  REQUIRE(std::memcmp(kv.name, wire, n) == 0);
}
