#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "dnspc/rate_limiter.h"
#include "dnspc/wire.h"
#include "dnspc/runtime/lb.h"
#include "packet_builder.h"
#include "dnspc/runtime/random.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

struct FakeState {
  std::vector<bool> up;
  std::vector<uint32_t> out, latency;
  std::vector<RateLimiter> limiters;
  std::vector<RateSpec> specs;
  uint64_t now_ns = 1'000'000'000;
  FastRandom rng{42};
  uint32_t rr = 0;

  explicit FakeState(size_t n) : up(n, true), out(n, 0), latency(n, 100), limiters(n), specs(n) {}
  bool usable(uint32_t id) const { return up[id]; }
  uint32_t outstanding(uint32_t id) const { return out[id]; }
  uint32_t latency_us(uint32_t id) const { return latency[id]; }
  bool take_qps(const LbServer& s) { return limiters[s.id].try_take(specs[s.id], now_ns); }
  uint64_t random() { return rng.next(); }
  uint32_t& round_robin() { return rr; }
};

LbPool pool(LbPolicy policy, std::vector<LbServer> servers) {
  std::vector<std::string> keys;
  for (const LbServer& s : servers) keys.push_back("192.0.2." + std::to_string(s.id + 1) + ":53");
  return make_lb_pool(policy, std::move(servers), keys);
}

struct Query {
  std::vector<uint8_t> bytes;
  QueryView view;
  explicit Query(const std::string& name) {
    bytes = testing::PacketBuilder().header(1, 0x0100, 1).question(name, 1).bytes();
    REQUIRE(parse_query(bytes.data(), bytes.size(), Transport::kUdp, view) == ParseError::kOk);
  }
};

std::map<int, int> split(const LbPool& p, FakeState& st, int n, bool distinct_names = true) {
  std::map<int, int> out;
  for (int i = 0; i < n; ++i) {
    Query q(distinct_names ? "n" + std::to_string(i) + ".example." : "same.example.");
    ++out[select_server(p, q.view, st)];
  }
  return out;
}

}  // namespace

TEST_CASE("round_robin: each usable server in turn", "[lb]") {
  auto p = pool(LbPolicy::kRoundRobin, {{0, 1, 1, 0}, {1, 1, 1, 0}, {2, 1, 1, 0}});
  FakeState st(3);
  Query q("a.example.");
  std::vector<int> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(select_server(p, q.view, st));
  CHECK(picks == std::vector<int>{0, 1, 2, 0, 1, 2});
  st.up[1] = false;
  picks.clear();
  for (int i = 0; i < 4; ++i) picks.push_back(select_server(p, q.view, st));
  CHECK(picks == std::vector<int>{0, 2, 0, 2});
  st.up = {false, false, false};
  CHECK(select_server(p, q.view, st) == -1);
}

TEST_CASE("least_outstanding: fewest in flight, ties by order then latency", "[lb]") {
  auto p = pool(LbPolicy::kLeastOutstanding, {{0, 1, 2, 0}, {1, 1, 1, 0}, {2, 1, 1, 0}});
  FakeState st(3);
  Query q("a.example.");
  st.out = {0, 3, 3};
  CHECK(select_server(p, q.view, st) == 0);  // fewest outstanding, whatever its order
  st.out = {0, 0, 0};
  st.latency = {10, 500, 200};
  CHECK(select_server(p, q.view, st) == 2);  // order 1 beats order 2; then the lower latency
  st.latency = {10, 200, 200};
  CHECK(select_server(p, q.view, st) == 1);  // full tie: declaration order
  st.up[1] = st.up[2] = false;
  CHECK(select_server(p, q.view, st) == 0);
}

TEST_CASE("first_available: lowest order under its qps limit, else least_outstanding", "[lb]") {
  auto p = pool(LbPolicy::kFirstAvailable, {{0, 1, 2, 0}, {1, 1, 1, 10}, {2, 1, 3, 10}});
  FakeState st(3);
  st.specs[1] = RateSpec::per_second(10, 10);
  st.specs[2] = RateSpec::per_second(10, 10);
  auto got = split(p, st, 30);
  // Server 1 (order 1) takes its burst of 10, then server 0 (order 2, no limit) the rest.
  CHECK(got[1] == 10);
  CHECK(got[0] == 20);
  CHECK(got.count(2) == 0);

  // Every server limited and over its limit: least_outstanding decides.
  auto q = pool(LbPolicy::kFirstAvailable, {{0, 1, 1, 5}, {1, 1, 2, 5}});
  FakeState s2(2);
  s2.specs[0] = s2.specs[1] = RateSpec::per_second(5, 5);
  auto g = split(q, s2, 10);
  CHECK(g[0] == 5);
  CHECK(g[1] == 5);
  s2.out = {4, 1};
  Query x("x.example.");
  CHECK(select_server(q, x.view, s2) == 1);
  s2.out = {0, 1};
  CHECK(select_server(q, x.view, s2) == 0);
}

TEST_CASE("weighted_random: shares follow the weights", "[lb]") {
  auto p = pool(LbPolicy::kWeightedRandom, {{0, 1, 1, 0}, {1, 3, 1, 0}});
  FakeState st(2);
  auto got = split(p, st, 8000);
  CHECK(got[0] == Approx(2000).epsilon(0.1));
  CHECK(got[1] == Approx(6000).epsilon(0.1));
  st.up[1] = false;
  got = split(p, st, 100);
  CHECK(got[0] == 100);
}

TEST_CASE("hashed: weighted, by lower-cased qname, fixed", "[lb]") {
  auto p = pool(LbPolicy::kHashed, {{0, 1, 1, 0}, {1, 3, 1, 0}});
  FakeState st(2);
  auto got = split(p, st, 8000);
  CHECK(got[0] == Approx(2000).epsilon(0.1));
  CHECK(got[1] == Approx(6000).epsilon(0.1));
  Query a("Sticky.Example."), b("sticky.example.");
  int first = select_server(p, a.view, st);
  for (int i = 0; i < 20; ++i) {
    CHECK(select_server(p, a.view, st) == first);
    CHECK(select_server(p, b.view, st) == first);
  }
  // The seed is fixed: the same name hashes the same in every run.
  CHECK(qname_hash(a.view) == qname_hash(b.view));
  CHECK(qname_hash(a.view) == 0x88c6263ed3999a18ull);
}

TEST_CASE("consistent_hash: weight points per server, few names move when one goes", "[lb]") {
  auto p = pool(LbPolicy::kConsistentHash, {{0, 300, 1, 0}, {1, 300, 1, 0}, {2, 300, 1, 0}});
  CHECK(p.ring.size() == 900);
  FakeState st(3);
  std::vector<int> before;
  for (int i = 0; i < 3000; ++i) before.push_back(select_server(p, Query("n" + std::to_string(i) + ".x.").view, st));
  std::map<int, int> share;
  for (int s : before) ++share[s];
  for (int s = 0; s < 3; ++s) CHECK(share[s] == Approx(1000).epsilon(0.25));
  st.up[1] = false;
  int moved = 0;
  for (int i = 0; i < 3000; ++i) {
    int now = select_server(p, Query("n" + std::to_string(i) + ".x.").view, st);
    CHECK(now != 1);
    if (before[i] != 1 && now != before[i]) ++moved;
  }
  CHECK(moved == 0);  // only the names of the server that went move
  st.up = {false, false, false};
  CHECK(select_server(p, Query("a.x.").view, st) == -1);
}
