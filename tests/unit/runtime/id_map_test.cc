#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>

#include "dnspc/runtime/id_map.h"

using dnspc::runtime::IdMap;

TEST_CASE("id map: agrees with std::unordered_map under random use", "[runtime]") {
  IdMap m(500);
  CHECK(m.capacity() >= 1000);
  std::unordered_map<uint32_t, uint32_t> ref;
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    uint32_t key = IdMap::key(rng() % 4, static_cast<uint16_t>(rng() % 2048));
    int op = static_cast<int>(rng() % 3);
    if (op == 0 && ref.size() < 500) {
      bool fresh = !ref.count(key);
      REQUIRE(m.insert(key, static_cast<uint32_t>(i)) == fresh);
      if (fresh) ref[key] = static_cast<uint32_t>(i);
    } else if (op == 1) {
      REQUIRE(m.erase(key) == (ref.erase(key) == 1));
    } else {
      auto it = ref.find(key);
      REQUIRE(m.find(key) == (it == ref.end() ? IdMap::kNone : it->second));
    }
    REQUIRE(m.size() == ref.size());
  }
  for (auto& [k, v] : ref) CHECK(m.find(k) == v);
}

TEST_CASE("id map: keys are socket and ID", "[runtime]") {
  IdMap m(4);
  CHECK(m.insert(IdMap::key(0, 7), 1));
  CHECK(m.insert(IdMap::key(1, 7), 2));
  CHECK_FALSE(m.insert(IdMap::key(0, 7), 3));
  CHECK(m.find(IdMap::key(0, 7)) == 1);
  CHECK(m.find(IdMap::key(1, 7)) == 2);
  CHECK(m.find(IdMap::key(2, 7)) == IdMap::kNone);
  CHECK(m.find(IdMap::key(0, 0xffff)) == IdMap::kNone);
}
