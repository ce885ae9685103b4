#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "dnspc/heavy_hitters.h"

using namespace dnspc;

namespace {

SourcePrefix v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t bytes[4] = {a, b, c, d};
  return SourcePrefix::of(NetAddress::ipv4(bytes), 32, 128);
}

}  // namespace

TEST_CASE("heavy hitters: exact while under capacity") {
  HeavyHitters h(8);
  for (int i = 0; i < 5; ++i) h.add(v4(192, 0, 2, 1), 1);
  h.add(v4(192, 0, 2, 2), 100);
  REQUIRE(h.size() == 2);
  REQUIRE_FALSE(h.full());
  REQUIRE(h.floor() == 0);
  REQUIRE(h.total() == 105);
  std::map<uint8_t, uint64_t> counts;
  for (uint32_t i = 0; i < h.size(); ++i) {
    REQUIRE(h.entry(i).error == 0);
    counts[h.entry(i).prefix.bytes[3]] = h.entry(i).count;
  }
  REQUIRE(counts == std::map<uint8_t, uint64_t>{{1, 5}, {2, 100}});
  h.clear();
  REQUIRE(h.size() == 0);
  REQUIRE(h.total() == 0);
}

TEST_CASE("heavy hitters: a newcomer takes the smallest counter and inherits its count") {
  HeavyHitters h(2);
  h.add(v4(10, 0, 0, 1), 3);
  h.add(v4(10, 0, 0, 2), 7);
  h.add(v4(10, 0, 0, 3), 1);  // replaces .1 (3): count 4, error 3
  REQUIRE(h.full());
  bool found = false;
  for (uint32_t i = 0; i < h.size(); ++i) {
    const auto& e = h.entry(i);
    REQUIRE(e.prefix != v4(10, 0, 0, 1));
    if (e.prefix == v4(10, 0, 0, 3)) {
      found = true;
      REQUIRE(e.count == 4);
      REQUIRE(e.error == 3);
    }
  }
  REQUIRE(found);
  REQUIRE(h.floor() == 4);
}

TEST_CASE(
    "heavy hitters: counts bound the truth from above, and every heavy prefix keeps a counter") {
  // A skewed random stream over 5000 prefixes into 64 counters, checked
  // against exact counts.
  HeavyHitters h(64);
  std::mt19937 rng(7);
  std::map<uint32_t, uint64_t> truth;
  for (int i = 0; i < 200'000; ++i) {
    uint32_t id = (rng() % 4 == 0) ? rng() % 8 : rng() % 5000;  // 8 heavy prefixes
    h.add(v4(10, static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8),
             static_cast<uint8_t>(id)),
          1);
    ++truth[id];
  }
  const uint64_t n = h.total();
  REQUIRE(n == 200'000);
  REQUIRE(h.floor() <= n / h.capacity());
  std::map<uint32_t, const HeavyHitters::Entry*> held;
  for (uint32_t i = 0; i < h.size(); ++i) {
    const auto& e = h.entry(i);
    uint32_t id =
        uint32_t{e.prefix.bytes[1]} << 16 | uint32_t{e.prefix.bytes[2]} << 8 | e.prefix.bytes[3];
    held[id] = &e;
    REQUIRE(e.count >= truth[id]);
    REQUIRE(e.count - e.error <= truth[id]);
  }
  for (const auto& [id, count] : truth) {
    if (count > n / h.capacity()) REQUIRE(held.count(id) == 1);
    if (!held.count(id)) REQUIRE(count <= h.floor());
  }
}

TEST_CASE("heavy hitters: memory is fixed at construction") {
  HeavyHitters h(1000);
  const size_t before = h.bytes();
  for (uint32_t i = 0; i < 100'000; ++i) {
    h.add(v4(10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
             static_cast<uint8_t>(i)),
          1);
  }
  REQUIRE(h.size() == 1000);
  REQUIRE(h.bytes() == before);
}
