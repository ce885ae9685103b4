#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "dnspc/candidate_merge.h"

using namespace dnspc;

namespace {

using Ids = std::vector<uint32_t>;

template <uint32_t N>
Ids all(CandidateMergeN<N>& m) {
  Ids out;
  uint32_t id;
  while (m.next(&id)) out.push_back(id);
  return out;
}

}  // namespace

TEST_CASE("candidate merge: a few lists", "[stdlib][merge]") {
  const uint32_t a[] = {1, 4, 9, 20};
  const uint32_t b[] = {2, 4, 5, 20, 21};
  const uint32_t c[] = {0};
  const uint32_t d[] = {3, 3, 3, 7};  // repeats inside a list
  CandidateMerge m;
  CHECK(m.empty());
  CHECK(m.add(a, 4));
  CHECK(m.add(b, 5));
  CHECK(m.add(c, 1));
  CHECK(m.add(d, 4));
  CHECK(m.add(nullptr, 0));  // empty lists take no room
  CHECK(m.live_lists() == 4);
  CHECK(all(m) == Ids{0, 1, 2, 3, 4, 5, 7, 9, 20, 21});
  CHECK(m.empty());
  uint32_t id = 77;
  CHECK_FALSE(m.next(&id));
  CHECK(id == 77);
}

TEST_CASE("candidate merge: empty, single and identical lists", "[stdlib][merge]") {
  CandidateMerge m;
  CHECK(all(m).empty());
  const uint32_t a[] = {5, 6, 6, 8};
  m.add(a, 4);
  CHECK(all(m) == Ids{5, 6, 8});
  for (int i = 0; i < 10; ++i) m.add(a, 4);
  CHECK(all(m) == Ids{5, 6, 8});
  m.add(a, 4);
  m.clear();
  CHECK(all(m).empty());
  const uint32_t big[] = {0xfffffffeu, 0xffffffffu};
  m.add(big, 2);
  m.add(big + 1, 1);
  CHECK(all(m) == Ids{0xfffffffeu, 0xffffffffu});
}

TEST_CASE("candidate merge: a full merge refuses more lists", "[stdlib][merge]") {
  std::vector<uint32_t> values(70);
  for (uint32_t i = 0; i < 70; ++i) values[i] = i;
  CandidateMerge m;
  for (uint32_t i = 0; i < 64; ++i) CHECK(m.add(&values[i], 1));
  CHECK_FALSE(m.add(&values[64], 1));
  CHECK(m.add(&values[64], 0));
  Ids want(values.begin(), values.begin() + 64);
  CHECK(all(m) == want);
  // Exhausted lists free their room.
  CHECK(m.add(&values[64], 6));
  CHECK(all(m) == Ids{64, 65, 66, 67, 68, 69});
}

TEST_CASE("candidate merge: drain writes at most cap and counts the rest", "[stdlib][merge]") {
  const uint32_t a[] = {1, 3, 5, 7};
  const uint32_t b[] = {2, 3, 4};
  CandidateMerge m;
  m.add(a, 4);
  m.add(b, 3);
  uint32_t out[3] = {};
  CHECK(m.drain(out, 3) == 6);
  CHECK(Ids(out, out + 3) == Ids{1, 2, 3});
  CHECK(m.empty());
  const uint32_t c[] = {4, 4, 9, 9, 9, 10};
  m.add(c, 6);
  CHECK(m.drain(out, 2) == 3);
  CHECK(Ids(out, out + 2) == Ids{4, 9});
  m.add(c, 6);
  CHECK(m.drain(nullptr, 0) == 3);
}

TEST_CASE("candidate merge: random lists agree with std::set union", "[stdlib][merge]") {
  std::mt19937 rng(1234);
  for (int round = 0; round < 2000; ++round) {
    const uint32_t k = rng() % 65;  // 0..64 lists
    const uint32_t range = round % 2 ? 50 : 1000000;
    std::vector<std::vector<uint32_t>> lists(k);
    std::set<uint32_t> want;
    for (auto& list : lists) {
      const uint32_t n = rng() % (round % 3 == 0 ? 40 : 5);
      for (uint32_t i = 0; i < n; ++i) list.push_back(rng() % range);
      std::sort(list.begin(), list.end());
      want.insert(list.begin(), list.end());
    }
    CandidateMerge m;
    for (const auto& list : lists) REQUIRE(m.add(list.data(), static_cast<uint32_t>(list.size())));
    if (round % 4 == 0) {
      std::vector<uint32_t> out(want.size() + 1);
      const uint32_t cap = static_cast<uint32_t>(rng() % out.size());
      REQUIRE(m.drain(out.data(), cap) == want.size());
      REQUIRE(Ids(out.begin(), out.begin() + cap) == Ids(want.begin(), std::next(want.begin(), cap)));
    } else {
      REQUIRE(all(m) == Ids(want.begin(), want.end()));
    }
  }
}
