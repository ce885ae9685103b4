// The loader's maps against the kernel: each map type the fast path uses,
// and the per-CPU sums the metrics table reads.
#include <bpf/libbpf.h>

#include <catch2/catch.hpp>
#include <cstdint>

#include "dnspc/kernel_abi.h"
#include "dnspc/runtime/xdp.h"

using namespace dnspc::xdp;

namespace {

std::unique_ptr<Map> must_create(MapSpec spec) {
  std::string error;
  auto map = Map::create(std::move(spec), error);
  INFO(error);
  REQUIRE(map);
  CHECK(error.empty());
  return map;
}

}  // namespace

TEST_CASE("hash map: update, lookup, remove, and a full map says so") {
  auto map = must_create({MapType::hash, 4, 8, 2, "test_hash"});
  std::string error;
  uint32_t k1 = 1, k2 = 2, k3 = 3;
  uint64_t v = 0;
  REQUIRE(map->update(bytes_of(k1), bytes_of(uint64_t{11}), error));
  REQUIRE(map->update(bytes_of(k2), bytes_of(uint64_t{22}), error));
  REQUIRE(map->lookup(bytes_of(k1), writable_bytes_of(v)));
  CHECK(v == 11);
  REQUIRE(map->update(bytes_of(k1), bytes_of(uint64_t{111}), error));  // overwrite
  REQUIRE(map->lookup(bytes_of(k1), writable_bytes_of(v)));
  CHECK(v == 111);

  CHECK_FALSE(map->update(bytes_of(k3), bytes_of(uint64_t{33}), error));
  CHECK(error == "BPF map test_hash is full (2 entries)");

  CHECK(map->remove(bytes_of(k1)));
  CHECK_FALSE(map->remove(bytes_of(k1)));
  CHECK_FALSE(map->lookup(bytes_of(k1), writable_bytes_of(v)));
  REQUIRE(map->update(bytes_of(k3), bytes_of(uint64_t{33}), error));  // room again

  uint16_t short_key = 1;
  CHECK_FALSE(map->update(bytes_of(short_key), bytes_of(uint64_t{1}), error));
  CHECK(error == "BPF map test_hash: update with a 2 B key and 8 B value, it takes 4 and 8");
}

TEST_CASE("array map: zero-filled, indexed, cannot remove or write past its end") {
  auto map = must_create({MapType::array, 4, sizeof(dnspc::kernel::dnspc_k_action), 4, "actions"});
  dnspc::kernel::dnspc_k_action action{};
  uint32_t index = 3;
  REQUIRE(map->lookup(bytes_of(index), writable_bytes_of(action)));
  CHECK(action.kind == 0);
  std::string error;
  action.kind = dnspc::kernel::DNSPC_K_RCODE;
  action.rcode = 5;
  REQUIRE(map->update(bytes_of(index), bytes_of(action), error));
  dnspc::kernel::dnspc_k_action read{};
  REQUIRE(map->lookup(bytes_of(index), writable_bytes_of(read)));
  CHECK(read.kind == dnspc::kernel::DNSPC_K_RCODE);
  CHECK(read.rcode == 5);
  CHECK_FALSE(map->remove(bytes_of(index)));
  uint32_t past = 4;
  CHECK_FALSE(map->update(bytes_of(past), bytes_of(action), error));
  CHECK(error == "BPF map actions: index past its end (4 entries)");
}

TEST_CASE("per-CPU array: one value per possible CPU, summed") {
  int cpus = libbpf_num_possible_cpus();
  REQUIRE(cpus > 0);
  auto map = must_create({MapType::percpu_array, 4, 8, 3, "rule_hits"});
  REQUIRE(map->value_buffer_size() == 8 * static_cast<size_t>(cpus));

  std::vector<uint64_t> values(cpus);
  for (int c = 0; c < cpus; ++c) values[c] = static_cast<uint64_t>(c) + 1;
  std::string error;
  uint32_t index = 1;
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(values.data()),
                                 values.size() * 8);
  REQUIRE(map->update(bytes_of(index), bytes, error));
  uint64_t expected = static_cast<uint64_t>(cpus) * (cpus + 1) / 2;
  CHECK(map->sum_u64(1) == expected);
  CHECK(map->sum_u64(0) == 0);
  CHECK_FALSE(map->sum_u64(3).has_value());
  CHECK(map->sum_u64_all() == std::vector<uint64_t>{0, expected, 0});

  // One CPU's value alone is the wrong size for a per-CPU map.
  if (cpus > 1) {
    CHECK_FALSE(map->update(bytes_of(index), bytes_of(uint64_t{1}), error));
  }
}

TEST_CASE("per-CPU sums over more entries than one batch") {
  auto map = must_create({MapType::percpu_array, 4, 8, 10'000, "many_hits"});
  size_t cpus = map->value_buffer_size() / 8;
  std::vector<uint64_t> values(cpus, 0);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(values.data()), cpus * 8);
  std::string error;
  for (uint32_t i = 0; i < 10'000; i += 7) {
    values[i % cpus] = i;
    REQUIRE(map->update(bytes_of(i), bytes, error));
    values[i % cpus] = 0;
  }
  std::vector<uint64_t> sums = map->sum_u64_all();
  REQUIRE(sums.size() == 10'000);
  for (uint32_t i = 0; i < 10'000; ++i) {
    if (sums[i] != (i % 7 == 0 ? i : 0)) FAIL("index " << i << " sums to " << sums[i]);
  }
  CHECK(map->sum_u64(9'996) == 9'996);
}

TEST_CASE("LPM trie: longest prefix wins") {
  using dnspc::kernel::dnspc_k_lookup;
  using dnspc::kernel::dnspc_k_lpm4;
  auto map =
      must_create({MapType::lpm_trie, sizeof(dnspc_k_lpm4), sizeof(dnspc_k_lookup), 16, "src4"});
  std::string error;
  dnspc_k_lpm4 wide{8, {10, 0, 0, 0}};
  dnspc_k_lpm4 narrow{16, {10, 1, 0, 0}};
  REQUIRE(map->update(bytes_of(wide), bytes_of(dnspc_k_lookup{1, 0, 0}), error));
  REQUIRE(map->update(bytes_of(narrow), bytes_of(dnspc_k_lookup{2, 0, 0}), error));
  dnspc_k_lookup found{};
  REQUIRE(map->lookup(bytes_of(dnspc_k_lpm4{32, {10, 1, 2, 3}}), writable_bytes_of(found)));
  CHECK(found.min_rule == 2);
  REQUIRE(map->lookup(bytes_of(dnspc_k_lpm4{32, {10, 2, 0, 1}}), writable_bytes_of(found)));
  CHECK(found.min_rule == 1);
  CHECK_FALSE(map->lookup(bytes_of(dnspc_k_lpm4{32, {11, 0, 0, 1}}), writable_bytes_of(found)));
  CHECK(map->remove(bytes_of(narrow)));
  REQUIRE(map->lookup(bytes_of(dnspc_k_lpm4{32, {10, 1, 2, 3}}), writable_bytes_of(found)));
  CHECK(found.min_rule == 1);
}

TEST_CASE("LRU hash: never full, keeps the newest") {
  using dnspc::kernel::dnspc_k_source_rate_key;
  auto map =
      must_create({MapType::lru_hash, sizeof(dnspc_k_source_rate_key), 8, 64, "source_rates"});
  std::string error;
  dnspc_k_source_rate_key key{};
  key.family = 4;
  for (uint32_t i = 0; i < 1000; ++i) {
    key.addr[0] = static_cast<uint8_t>(i);
    key.addr[1] = static_cast<uint8_t>(i >> 8);
    REQUIRE(map->update(bytes_of(key), bytes_of(uint64_t{i}), error));
  }
  uint64_t v = 0;
  REQUIRE(map->lookup(bytes_of(key), writable_bytes_of(v)));
  CHECK(v == 999);
  size_t present = 0;
  for (uint32_t i = 0; i < 1000; ++i) {
    key.addr[0] = static_cast<uint8_t>(i);
    key.addr[1] = static_cast<uint8_t>(i >> 8);
    present += map->lookup(bytes_of(key), writable_bytes_of(v));
  }
  CHECK(present <= 64);
  CHECK(present < 1000);
}

TEST_CASE("a map the kernel refuses names itself and the cause") {
  std::string error;
  // An LPM trie's key is a 4-byte prefix length and at least one byte.
  auto map = Map::create({MapType::lpm_trie, 3, 8, 16, "bad_trie"}, error);
  CHECK_FALSE(map);
  CHECK(error ==
        "cannot create BPF map bad_trie (lpm_trie, key 3 B, value 8 B, 16 entries): EINVAL: "
        "Invalid argument: the kernel refused these sizes for this map type");
}
