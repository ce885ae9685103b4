// Per-source QPS buckets under a spray of sources: memory stays what the
// table was built with, and an abuser never escapes its bound by hiding among
// a million other sources (colliding prefixes share a bucket, which only
// makes the bound stricter for them).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "dnspc/source_rate_table.h"

using namespace dnspc;

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

NetAddress v6(uint64_t high, uint64_t low) {
  uint8_t b[16];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  return NetAddress::ipv6(b);
}

// The resident set of this process in KiB (/proc/self/status VmRSS).
long rss_kib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
  }
  std::fclose(f);
  return kib;
}

}  // namespace

TEST_CASE("a million sprayed IPv6 sources: fixed memory, and the abuser stays bound", "[rate][spray]") {
  const uint32_t capacity = 65536;
  SourceRateTable table(RateSpec::per_second(100, 100), 32, 64, capacity);
  REQUIRE(table.capacity() == capacity);
  const long rss_before = rss_kib();

  std::mt19937_64 rng(20261125);
  const NetAddress abuser = v6(0x20010db8'00000001ull, 1);
  const NetAddress abuser_same_64 = v6(0x20010db8'00000001ull, 0xffff);  // the same /64
  uint64_t abuser_passed = 0, abuser_sent = 0;
  uint64_t sprayed_passed = 0;
  const int kSpray = 1'000'000;
  // One virtual second: the spray and the abuser interleaved, 10 abuser
  // queries for every 1,000 sprayed ones (10,000 in all, 100x its bound).
  for (int i = 0; i < kSpray; ++i) {
    const uint64_t now = 5 * kSecond + static_cast<uint64_t>(i) * (kSecond / kSpray);
    sprayed_passed += table.try_take(v6(rng(), rng()), now);
    if (i % 100 == 0) {
      ++abuser_sent;
      abuser_passed += table.try_take(i % 200 == 0 ? abuser : abuser_same_64, now);
    }
  }
  INFO("abuser sent " << abuser_sent << ", passed " << abuser_passed);
  // Its bound is 100 per second plus a burst of 100: never more, whatever
  // shares its bucket.
  CHECK(abuser_sent == 10'000);
  CHECK(abuser_passed <= 200);
  CHECK(abuser_passed >= 50);  // and it is a bound, not a block: colliders take only a few tokens
  // Sprayed sources, one query each, mostly pass (about 15 share a bucket).
  CHECK(sprayed_passed > kSpray * 9 / 10);

  // Memory: the table is what it was built with; the process grew by at most
  // the table's buckets (touched for the first time) plus slack.
  CHECK(table.capacity() == capacity);
  const long rss_after = rss_kib();
  INFO("RSS " << rss_before << " -> " << rss_after << " KiB");
  CHECK(rss_after - rss_before <= static_cast<long>(capacity * sizeof(RateLimiter) / 1024) + 2048);
}

TEST_CASE("IPv6 sources in one /64 share a bucket, IPv4 by /32 unless told otherwise", "[rate]") {
  SourceRateTable by64(RateSpec::per_second(1, 1), 32, 64, 1024);
  CHECK(by64.slot(v6(0x20010db8'00000001ull, 1)) == by64.slot(v6(0x20010db8'00000001ull, 2)));
  SourceRateTable by24(RateSpec::per_second(1, 1), 24, 48, 1024);
  const uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 200};
  CHECK(by24.slot(NetAddress::ipv4(a)) == by24.slot(NetAddress::ipv4(b)));
  // One token for the whole /24.
  CHECK(by24.try_take(NetAddress::ipv4(a), kSecond));
  CHECK_FALSE(by24.try_take(NetAddress::ipv4(b), kSecond));
}
