#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <vector>

#include "dnspc/probes.h"
#include "dnspc/qtype_index.h"
#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;

namespace {

using Ids = std::vector<uint32_t>;

Ids ids(const QtypeIndex& x, uint16_t t) {
  const auto s = qtype_ids(x, t);
  return Ids(s.begin(), s.end());
}

}  // namespace

TEST_CASE("qtype index: single types, sets, large types", "[stdlib][qtype]") {
  QtypeIndexBuilder b;
  b.add(qtype::kA, 1);
  const uint16_t address_types[] = {qtype::kA, qtype::kAAAA};
  b.add(address_types, 2);
  b.add(qtype::kANY, 3);
  b.add(65, 4);       // HTTPS
  b.add(65535, 5);
  b.add(256, 6);      // URI
  b.add(32769, 7);    // DLV
  b.add(65535, 0);
  b.add(qtype::kA, 1);  // a repeat
  const uint16_t zero_and_large[] = {0, 300};
  b.add(zero_and_large, 8);
  const QtypeIndex x = b.build();
  REQUIRE(qtype_index_check(x) == nullptr);

  CHECK(ids(x, qtype::kA) == Ids{1, 2});
  CHECK(ids(x, qtype::kAAAA) == Ids{2});
  CHECK(ids(x, qtype::kANY) == Ids{3});
  CHECK(ids(x, 65) == Ids{4});
  CHECK(ids(x, 0) == Ids{8});
  CHECK(ids(x, 255) == Ids{3});
  CHECK(ids(x, 256) == Ids{6});
  CHECK(ids(x, 300) == Ids{8});
  CHECK(ids(x, 32769) == Ids{7});
  CHECK(ids(x, 65535) == Ids{0, 5});
  CHECK(ids(x, qtype::kMX).empty());
  CHECK(ids(x, 257).empty());
  CHECK(ids(x, 65534).empty());
  CHECK(x.large_qtypes == std::vector<uint16_t>{256, 300, 32769, 65535});

  uint32_t out[4] = {};
  CHECK(qtype_probe(x, qtype::kA, out, 1) == 2);
  CHECK(out[0] == 1);
  CHECK(qtype_probe(x, 65535, out, 4) == 2);
  CHECK(Ids(out, out + 2) == Ids{0, 5});
  CHECK(qtype_probe(x, 1000, out, 4) == 0);

  uint32_t count = 99;
  const uint32_t* p = dnspc_qtype_ids(&x, qtype::kA, &count);
  REQUIRE(count == 2);
  CHECK(p[1] == 2);
  dnspc_qtype_ids(&x, 7, &count);
  CHECK(count == 0);

  const auto packet = dnspc::testing::simple_query("example.com", qtype::kAAAA);
  QueryView v;
  REQUIRE(parse_query(packet.data(), packet.size(), Transport::kUdp, v) == ParseError::kOk);
  CHECK(dnspc_qtype_probe(&x, &v, out, 4) == 1);
  CHECK(out[0] == 2);
}

TEST_CASE("qtype index: default and empty indexes", "[stdlib][qtype]") {
  const QtypeIndex d;
  CHECK(qtype_index_check(d) == nullptr);
  CHECK(ids(d, 1).empty());
  CHECK(ids(d, 4000).empty());
  const QtypeIndex e = QtypeIndexBuilder().build();
  CHECK(qtype_index_check(e) == nullptr);
  CHECK(ids(e, 255).empty());
  CHECK(ids(e, 65535).empty());
}

TEST_CASE("qtype index: the check finds corrupted tables", "[stdlib][qtype]") {
  QtypeIndexBuilder b;
  b.add(1, 5);
  b.add(1, 3);
  b.add(999, 4);
  const QtypeIndex good = b.build();
  REQUIRE(qtype_index_check(good) == nullptr);
  QtypeIndex x = good;
  std::swap(x.ids[0], x.ids[1]);
  CHECK(qtype_index_check(x) != nullptr);
  x = good;
  x.large_qtypes[0] = 200;
  CHECK(qtype_index_check(x) != nullptr);
  x = good;
  x.small_begin[100] = 50;
  CHECK(qtype_index_check(x) != nullptr);
  x = good;
  x.large_begin.pop_back();
  CHECK(qtype_index_check(x) != nullptr);
}

TEST_CASE("qtype index: random sets agree with a map", "[stdlib][qtype]") {
  std::mt19937 rng(5);
  std::map<uint16_t, std::set<uint32_t>> oracle;
  QtypeIndexBuilder b;
  for (uint32_t id = 0; id < 3000; ++id) {
    std::vector<uint16_t> set;
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      const uint16_t t = static_cast<uint16_t>(rng() % 2 ? rng() % 300 : rng());
      set.push_back(t);
      oracle[t].insert(id);
    }
    b.add(set, id);
  }
  const QtypeIndex x = b.build();
  REQUIRE(qtype_index_check(x) == nullptr);
  for (uint32_t t = 0; t <= 65535; ++t) {
    const auto it = oracle.find(static_cast<uint16_t>(t));
    const Ids want = it == oracle.end() ? Ids{} : Ids(it->second.begin(), it->second.end());
    if (ids(x, static_cast<uint16_t>(t)) != want) {
      FAIL("qtype " << t);
    }
  }
}
