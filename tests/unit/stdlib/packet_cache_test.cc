// The packet cache's store: lifetimes and the stale window, a hash collision
// that must miss, CLOCK eviction keeping hot keys, purges, fixed memory, and
// two writer threads with readers that must never see a torn or foreign
// answer (this file also runs under ThreadSanitizer: tests/unit/stdlib/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dnspc/packet_cache.h"

using namespace dnspc;

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

CacheKey key_of(const PacketCache& c, const std::string& text) {
  CacheKey k;
  std::memcpy(k.bytes, text.data(), text.size());
  k.size = static_cast<uint16_t>(text.size());
  c.hash_key(k);
  return k;
}

// An answer whose every byte says which key and version it belongs to.
std::vector<uint8_t> answer_for(uint32_t key, uint32_t version, size_t size) {
  std::vector<uint8_t> a(size);
  for (size_t i = 0; i < size; ++i)
    a[i] = static_cast<uint8_t>((key * 31 + version * 7 + i) & 0xff);
  return a;
}

}  // namespace

TEST_CASE("a stored answer is fresh for its lifetime, then stale for its window, then gone") {
  PacketCache c(64, 512, 42);
  const CacheKey k = key_of(c, "www.example.A");
  const auto a = answer_for(1, 0, 100);
  REQUIRE(c.insert(k, a.data(), a.size(), 10 * kSecond, 5 * kSecond, 3 * kSecond) ==
          CacheStore::kStored);
  uint8_t out[520];
  CacheLookup r = c.lookup(k, 12 * kSecond, false, out);
  REQUIRE(r.result == CacheFind::kFresh);
  REQUIRE(r.size == 100);
  REQUIRE(r.age_ns == 2 * kSecond);
  REQUIRE(std::memcmp(out, a.data(), 100) == 0);
  // Past the lifetime: only a caller that wants stale answers gets one.
  REQUIRE(c.lookup(k, 16 * kSecond, false, out).result == CacheFind::kMiss);
  REQUIRE(c.lookup(k, 16 * kSecond, true, out).result == CacheFind::kStale);
  REQUIRE(c.lookup(k, 18 * kSecond, true, out).result == CacheFind::kMiss);
  REQUIRE(c.lookup(key_of(c, "www.example.AAAA"), 12 * kSecond, true, out).result ==
          CacheFind::kMiss);
}

TEST_CASE("a hash collision is a miss, counted, never the other key's answer") {
  PacketCache c(64, 512, 1);
  CacheKey a = key_of(c, "first.example.A");
  CacheKey b = key_of(c, "other.example.A");
  b.hash = a.hash;  // forced: same bucket, same tag
  const auto answer = answer_for(1, 0, 40);
  REQUIRE(c.insert(a, answer.data(), answer.size(), 0, kSecond, 0) == CacheStore::kStored);
  uint8_t out[520];
  const CacheLookup r = c.lookup(b, 1, false, out);
  REQUIRE(r.result == CacheFind::kMiss);
  REQUIRE(r.collision);
  REQUIRE(c.lookup(a, 1, false, out).result == CacheFind::kFresh);
  // A key that differs only past its length's padding cannot exist: the size is compared too.
  CacheKey shorter = a;
  shorter.size = static_cast<uint16_t>(a.size - 1);
  shorter.bytes[shorter.size] = 0;
  REQUIRE(c.lookup(shorter, 1, false, out).result == CacheFind::kMiss);
}

TEST_CASE("answers over the entry size are refused; the memory is what was asked for") {
  PacketCache c(1000, 1232, 7);
  REQUIRE(c.capacity() == 1000);
  REQUIRE(c.memory_bytes() >= 1000u * 1232);
  REQUIRE(c.memory_bytes() < 1000u * (1232 + 400));
  const CacheKey k = key_of(c, "big.example.TXT");
  std::vector<uint8_t> big(1233, 1);
  REQUIRE(c.insert(k, big.data(), big.size(), 0, kSecond, 0) == CacheStore::kTooLarge);
  REQUIRE(c.used() == 0);
}

TEST_CASE("a full cache evicts by CLOCK: names hit since the hand passed stay") {
  PacketCache c(8, 128, 3);  // one bucket of 8
  uint8_t out[136];
  std::vector<CacheKey> hot;
  for (int i = 0; i < 4; ++i) {
    hot.push_back(key_of(c, "hot" + std::to_string(i)));
    const auto a = answer_for(i, 0, 30);
    REQUIRE(c.insert(hot.back(), a.data(), a.size(), 0, 1000 * kSecond, 0) == CacheStore::kStored);
  }
  uint64_t evicted = 0;
  for (int i = 0; i < 200; ++i) {
    for (const CacheKey& k : hot) REQUIRE(c.lookup(k, 1, false, out).result == CacheFind::kFresh);
    const auto a = answer_for(100 + i, 0, 30);
    const CacheStore s =
        c.insert(key_of(c, "flood" + std::to_string(i)), a.data(), a.size(), 1, 1000 * kSecond, 0);
    evicted += s == CacheStore::kEvicted;
  }
  REQUIRE(evicted > 150);
  for (const CacheKey& k : hot) REQUIRE(c.lookup(k, 2, false, out).result == CacheFind::kFresh);
  REQUIRE(c.used() == 8);
}

TEST_CASE("storing a key again replaces its answer in the same slot") {
  PacketCache c(8, 128, 3);
  const CacheKey k = key_of(c, "again");
  const auto a1 = answer_for(1, 1, 20), a2 = answer_for(1, 2, 25);
  REQUIRE(c.insert(k, a1.data(), a1.size(), 0, kSecond, 0) == CacheStore::kStored);
  REQUIRE(c.insert(k, a2.data(), a2.size(), 0, kSecond, 0) == CacheStore::kStored);
  REQUIRE(c.used() == 1);
  uint8_t out[136];
  const CacheLookup r = c.lookup(k, 1, false, out);
  REQUIRE(r.size == 25);
  REQUIRE(std::memcmp(out, a2.data(), 25) == 0);
}

TEST_CASE("purge removes the keys it is asked to and nothing else") {
  PacketCache c(256, 128, 9);
  for (int i = 0; i < 100; ++i) {
    const auto a = answer_for(i, 0, 20);
    c.insert(key_of(c, (i % 2 ? "odd" : "even") + std::to_string(i)), a.data(), a.size(), 0,
             kSecond, 0);
  }
  REQUIRE(c.used() == 100);
  const uint64_t removed =
      c.purge([](const uint8_t* k, size_t n) { return n >= 3 && std::memcmp(k, "odd", 3) == 0; });
  REQUIRE(removed == 50);
  REQUIRE(c.used() == 50);
  uint8_t out[136];
  REQUIRE(c.lookup(key_of(c, "odd1"), 1, true, out).result == CacheFind::kMiss);
  REQUIRE(c.lookup(key_of(c, "even2"), 1, true, out).result == CacheFind::kFresh);
}

TEST_CASE("two writers and two readers: every hit is whole and belongs to its key") {
  // A small cache so writers keep evicting and rewriting slots readers read.
  PacketCache c(64, 256, 11);
  constexpr uint32_t kKeys = 400;
  std::vector<CacheKey> keys;
  for (uint32_t i = 0; i < kKeys; ++i)
    keys.push_back(key_of(c, "k" + std::to_string(i) + ".example.com"));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> hits{0}, bad{0}, stores{0}, busy{0};

  auto writer = [&](uint32_t seed) {
    uint32_t x = seed;
    while (!stop.load(std::memory_order_relaxed)) {
      x = x * 1664525u + 1013904223u;
      const uint32_t k = (x >> 8) % kKeys;
      const uint32_t version = x >> 24;
      // Size and content both depend on (key, version); the version is in the first byte.
      std::vector<uint8_t> a = answer_for(k, version, 16 + (k + version) % 200);
      a[0] = static_cast<uint8_t>(version);
      a[1] = static_cast<uint8_t>(k), a[2] = static_cast<uint8_t>(k >> 8);
      const CacheStore s = c.insert(keys[k], a.data(), a.size(), 1, 1000 * kSecond, 0);
      (s == CacheStore::kBusy ? busy : stores).fetch_add(1, std::memory_order_relaxed);
    }
  };
  auto reader = [&](uint32_t seed) {
    uint32_t x = seed;
    uint8_t out[264];
    while (!stop.load(std::memory_order_relaxed)) {
      x = x * 1664525u + 1013904223u;
      const uint32_t k = (x >> 8) % kKeys;
      const CacheLookup r = c.lookup(keys[k], 2, false, out);
      if (r.result != CacheFind::kFresh) continue;
      hits.fetch_add(1, std::memory_order_relaxed);
      const uint32_t version = out[0];
      std::vector<uint8_t> want = answer_for(k, version, 16 + (k + version) % 200);
      want[0] = static_cast<uint8_t>(version);
      want[1] = static_cast<uint8_t>(k), want[2] = static_cast<uint8_t>(k >> 8);
      if (r.size != want.size() || std::memcmp(out, want.data(), want.size()) != 0) {
        bad.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  std::thread w1(writer, 1), w2(writer, 2), r1(reader, 3), r2(reader, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop.store(true);
  w1.join(), w2.join(), r1.join(), r2.join();
  INFO("hits " << hits.load() << " stores " << stores.load() << " busy " << busy.load());
  REQUIRE(hits.load() > 100);
  REQUIRE(stores.load() > 100);
  REQUIRE(bad.load() == 0);
}
