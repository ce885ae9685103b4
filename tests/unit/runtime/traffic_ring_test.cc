// The recent-traffic ring: bounded, newest kept, and a reader running beside
// the writer never sees a torn record.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "dnspc/runtime/traffic_ring.h"
#include "dnspc/runtime/traffic_views.h"

using dnspc::runtime::TrafficRecord;
using dnspc::runtime::TrafficRing;

namespace {

TrafficRecord record(uint64_t n) {
  TrafficRecord r;
  r.time_ns = n;
  r.qtype = static_cast<uint16_t>(n);
  r.qname_length = static_cast<uint8_t>(1 + n % 200);
  std::memset(r.qname, static_cast<int>(n % 251), r.qname_length);
  return r;
}

bool consistent(const TrafficRecord& r) {
  if (r.qtype != static_cast<uint16_t>(r.time_ns) || r.qname_length != 1 + r.time_ns % 200) return false;
  for (unsigned i = 0; i < r.qname_length; ++i) {
    if (r.qname[i] != r.time_ns % 251) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("the ring keeps the newest records, oldest first", "[runtime][rings]") {
  TrafficRing ring(8);
  std::vector<TrafficRecord> out;
  ring.snapshot(out);
  CHECK(out.empty());
  for (uint64_t n = 0; n < 5; ++n) ring.push(record(n));
  ring.snapshot(out);
  REQUIRE(out.size() == 5);
  CHECK(out.front().time_ns == 0);
  out.clear();
  for (uint64_t n = 5; n < 20; ++n) ring.push(record(n));
  ring.snapshot(out);
  REQUIRE(out.size() == 8);
  CHECK(out.front().time_ns == 12);
  CHECK(out.back().time_ns == 19);
  for (const auto& r : out) CHECK(consistent(r));
  TrafficRing off(0);
  off.push(record(1));
  out.clear();
  off.snapshot(out);
  CHECK(out.empty());
}

TEST_CASE("a reader beside the writer sees whole records only", "[runtime][rings]") {
  TrafficRing ring(64);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t n = 0; n < 2'000'000; ++n) ring.push(record(n));
    done = true;
  });
  size_t seen = 0, torn = 0;
  std::vector<TrafficRecord> out;
  while (!done) {
    out.clear();
    ring.snapshot(out);
    for (const auto& r : out) torn += !consistent(r);
    seen += out.size();
  }
  writer.join();
  CHECK(torn == 0);
  CHECK(seen > 0);
}

TEST_CASE("names are shown in presentation format, optionally by their last labels", "[runtime][rings]") {
  const uint8_t www[] = {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
  CHECK(dnspc::runtime::name_text(www, sizeof www) == "www.example.com.");
  CHECK(dnspc::runtime::name_text(www, sizeof www, 2) == "example.com.");
  CHECK(dnspc::runtime::name_text(www, sizeof www, 9) == "www.example.com.");
  const uint8_t odd[] = {4, 'a', '.', '<', 0x01, 0};
  CHECK(dnspc::runtime::name_text(odd, sizeof odd) == "a\\.<\\001.");
  const uint8_t root[] = {0};
  CHECK(dnspc::runtime::name_text(root, 1) == ".");
}
