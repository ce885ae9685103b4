#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "dnspc/prefix_index.h"
#include "dnspc/probes.h"

using namespace dnspc;

namespace {

using Ids = std::vector<uint32_t>;

NetAddress addr(const char* text) {
  const auto a = NetAddress::parse(text);
  REQUIRE(a);
  return *a;
}

void add(PrefixIndexBuilder& b, const char* text, unsigned len, uint32_t id) {
  REQUIRE(b.add(addr(text), len, id) == nullptr);
}

Ids probe(const PrefixIndex& x, const NetAddress& a) {
  std::vector<uint32_t> out(2);
  const uint32_t n = prefix_probe(x, a, out.data(), static_cast<uint32_t>(out.size()));
  if (n > out.size()) {
    out.resize(n);
    REQUIRE(prefix_probe(x, a, out.data(), n) == n);
  }
  out.resize(n);
  return out;
}

Ids probe(const PrefixIndex& x, const char* text) { return probe(x, addr(text)); }

}  // namespace

TEST_CASE("prefix index: nested IPv4 prefixes are all reported", "[stdlib][prefix]") {
  PrefixIndexBuilder b;
  add(b, "10.0.0.0", 8, 1);
  add(b, "10.1.0.0", 16, 2);
  add(b, "10.1.2.0", 24, 3);
  add(b, "10.1.2.3", 32, 4);
  add(b, "0.0.0.0", 0, 5);
  add(b, "192.0.2.128", 25, 6);
  const PrefixIndex x = b.build();
  REQUIRE(prefix_index_check(x) == nullptr);
  CHECK(x.v4_tables.size() == 6);
  CHECK(x.v6_tables.empty());

  CHECK(probe(x, "10.1.2.3") == Ids{1, 2, 3, 4, 5});
  CHECK(probe(x, "10.1.2.4") == Ids{1, 2, 3, 5});
  CHECK(probe(x, "10.1.3.3") == Ids{1, 2, 5});
  CHECK(probe(x, "10.2.2.3") == Ids{1, 5});
  CHECK(probe(x, "11.1.2.3") == Ids{5});
  CHECK(probe(x, "192.0.2.127") == Ids{5});
  CHECK(probe(x, "192.0.2.128") == Ids{5, 6});
  CHECK(probe(x, "192.0.2.255") == Ids{5, 6});
  CHECK(probe(x, "255.255.255.255") == Ids{5});
  CHECK(probe(x, "0.0.0.0") == Ids{5});
  // IPv4 prefixes say nothing about IPv6 addresses, /0 included.
  CHECK(probe(x, "::").empty());
  CHECK(probe(x, "::ffff:10.1.2.3").empty());
  CHECK(probe(x, NetAddress{}).empty());
}

TEST_CASE("prefix index: IPv6 prefixes, across word boundaries", "[stdlib][prefix]") {
  PrefixIndexBuilder b;
  add(b, "::", 0, 1);
  add(b, "2001:db8::", 32, 2);
  add(b, "2001:db8::1", 128, 3);
  add(b, "2001:db8:0:0:8000::", 65, 4);
  add(b, "2001:db8::", 127, 5);
  add(b, "2001:db8:1::", 48, 6);
  add(b, "2001:db8:ffff:ffff::", 63, 7);
  add(b, "10.0.0.0", 8, 8);
  const PrefixIndex x = b.build();
  REQUIRE(prefix_index_check(x) == nullptr);
  CHECK(x.v6_tables.size() == 7);
  CHECK(x.v4_tables.size() == 1);

  CHECK(probe(x, "2001:db8::1") == Ids{1, 2, 3, 5});
  CHECK(probe(x, "2001:db8::") == Ids{1, 2, 5});
  CHECK(probe(x, "2001:db8::2") == Ids{1, 2});
  CHECK(probe(x, "2001:db8::8000:0:0:1") == Ids{1, 2, 4});
  CHECK(probe(x, "2001:db8::7fff:0:0:1") == Ids{1, 2});
  CHECK(probe(x, "2001:db8:1:2::3") == Ids{1, 2, 6});
  CHECK(probe(x, "2001:db8:ffff:fffe::") == Ids{1, 2, 7});
  CHECK(probe(x, "2001:db8:ffff:fffc::") == Ids{1, 2});
  CHECK(probe(x, "2001:db9::1") == Ids{1});
  CHECK(probe(x, "10.9.9.9") == Ids{8});
}

TEST_CASE("prefix index: host bits are ignored, repeats merged", "[stdlib][prefix]") {
  PrefixIndexBuilder b;
  add(b, "10.1.2.3", 8, 2);
  add(b, "10.200.0.0", 8, 1);
  add(b, "10.0.0.0", 8, 2);
  add(b, "10.0.0.0", 16, 1);
  add(b, "2001:db8::ffff", 32, 9);
  const PrefixIndex x = b.build();
  CHECK(b.prefix_count() == 3);
  CHECK(probe(x, "10.0.9.9") == Ids{1, 2});
  CHECK(probe(x, "10.9.9.9") == Ids{1, 2});
  CHECK(probe(x, "2001:db8:1::") == Ids{9});
}

TEST_CASE("prefix index: bad prefixes are refused", "[stdlib][prefix]") {
  PrefixIndexBuilder b;
  CHECK(b.add(addr("10.0.0.0"), 33, 1) != nullptr);
  CHECK(b.add(addr("::"), 129, 1) != nullptr);
  CHECK(b.add(NetAddress{}, 0, 1) != nullptr);
  CHECK(b.add(addr("10.0.0.0"), 32, 1) == nullptr);
  CHECK(b.add(addr("::"), 128, 1) == nullptr);
  CHECK(b.prefix_count() == 2);

  const PrefixIndex empty;
  CHECK(prefix_index_check(empty) == nullptr);
  CHECK(probe(empty, "10.0.0.0").empty());
  const PrefixIndex built_empty = PrefixIndexBuilder().build();
  CHECK(prefix_index_check(built_empty) == nullptr);
  CHECK(probe(built_empty, "::1").empty());
}

TEST_CASE("prefix index: a small buffer gets the smallest ids and the true count",
          "[stdlib][prefix]") {
  PrefixIndexBuilder b;
  for (uint32_t len = 0; len <= 32; ++len) add(b, "198.51.100.7", len, 100 - len);
  const PrefixIndex x = b.build();
  const NetAddress a = addr("198.51.100.7");
  uint32_t out[5] = {};
  CHECK(prefix_probe(x, a, out, 5) == 33);
  CHECK(Ids(out, out + 5) == Ids{68, 69, 70, 71, 72});
  CHECK(dnspc_prefix_probe(&x, &a, out, 2) == 33);
  CHECK(out[1] == 69);
  CHECK(prefix_probe(x, a, nullptr, 0) == 33);
}

TEST_CASE("prefix index: the check finds corrupted tables", "[stdlib][prefix]") {
  PrefixIndexBuilder b;
  add(b, "10.0.0.0", 8, 1);
  add(b, "2001:db8::", 32, 2);
  const PrefixIndex good = b.build();
  REQUIRE(prefix_index_check(good) == nullptr);
  PrefixIndex x = good;
  x.v4_tables[0].mask[0] = 0xffff0000u;
  CHECK(prefix_index_check(x) != nullptr);
  x = good;
  x.v6_tables[0].slot_mask = 15;
  CHECK(prefix_index_check(x) != nullptr);
  x = good;
  for (size_t s = 0; s < x.v4_slots.size(); s += kPrefixV4SlotWords) {
    if (x.v4_slots[s + 1] != 0) x.v4_slots[s] |= 1;  // host bit set
  }
  CHECK(prefix_index_check(x) != nullptr);
  x = good;
  x.group_begin.back() = 7;
  CHECK(prefix_index_check(x) != nullptr);
}

namespace {

struct Prefix {
  NetAddress address;
  unsigned len;
  uint32_t id;
};

bool contains(const Prefix& p, const NetAddress& a) {
  if (p.address.family != a.family) return false;
  for (unsigned bit = 0; bit < p.len; ++bit) {
    const unsigned byte = bit / 8, shift = 7 - bit % 8;
    if (((p.address.bytes[byte] >> shift) & 1) != ((a.bytes[byte] >> shift) & 1)) return false;
  }
  return true;
}

NetAddress random_address(std::mt19937& rng, bool v4) {
  NetAddress a;
  a.family = v4 ? AddressFamily::kIPv4 : AddressFamily::kIPv6;
  // Few distinct leading bytes, so random prefixes nest and overlap.
  for (unsigned i = 0; i < (v4 ? 4u : 16u); ++i) {
    a.bytes[i] = static_cast<uint8_t>(i < 2 ? rng() % 4 : rng());
  }
  return a;
}

// Flips some bits after the first `keep` bits of `a`.
NetAddress perturb(std::mt19937& rng, NetAddress a, unsigned keep) {
  const unsigned bits = a.family == AddressFamily::kIPv4 ? 32 : 128;
  if (keep >= bits) return a;
  const unsigned flips = rng() % 3;
  for (unsigned i = 0; i < flips; ++i) {
    const unsigned bit = keep + rng() % (bits - keep);
    a.bytes[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  return a;
}

}  // namespace

TEST_CASE("prefix index: random prefixes agree with a full scan", "[stdlib][prefix]") {
  std::mt19937 rng(99);
  const std::vector<unsigned> v4_lengths{0, 8, 12, 16, 20, 23, 24, 27, 31, 32};
  const std::vector<unsigned> v6_lengths{0, 16, 29, 32, 48, 56, 63, 64, 65, 96, 112, 127, 128};
  for (int round = 0; round < 4; ++round) {
    std::vector<Prefix> prefixes;
    PrefixIndexBuilder b;
    const int count = round == 0 ? 50 : round == 1 ? 500 : 2000;
    for (int i = 0; i < count; ++i) {
      const bool v4 = rng() % 2 == 0;
      unsigned len;
      if (round == 3) {
        len = static_cast<unsigned>(rng() % (v4 ? 33 : 129));  // every length
      } else {
        const auto& lengths = v4 ? v4_lengths : v6_lengths;
        len = lengths[rng() % lengths.size()];
      }
      Prefix p{random_address(rng, v4), len, static_cast<uint32_t>(rng() % 3000)};
      REQUIRE(b.add(p.address, p.len, p.id) == nullptr);
      prefixes.push_back(p);
    }
    const PrefixIndex x = b.build();
    REQUIRE(prefix_index_check(x) == nullptr);
    for (int i = 0; i < 1000; ++i) {
      NetAddress a;
      if (rng() % 4 == 0) {
        a = random_address(rng, rng() % 2 == 0);
      } else {
        const Prefix& p = prefixes[rng() % prefixes.size()];
        a = perturb(rng, p.address, p.len);
      }
      a.port = static_cast<uint16_t>(rng());
      std::set<uint32_t> want;
      for (const Prefix& p : prefixes) {
        if (contains(p, a)) want.insert(p.id);
      }
      INFO(a.to_string(false));
      REQUIRE(probe(x, a) == Ids(want.begin(), want.end()));
    }
  }
}
