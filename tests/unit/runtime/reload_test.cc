// Hot reload's data side: the registry grows by name without moving what
// workers hold, reports what changed, and QPS state carries over by key.
#include <catch2/catch.hpp>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"
#include "dnspc/runtime/segmented.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

ServerSpec server(const char* address) {
  ServerSpec s;
  s.address = *NetAddress::parse(address);
  return s;
}

std::shared_ptr<PolicyImage> image(std::vector<const char*> servers, std::vector<std::string> rules,
                                   uint64_t fingerprint = 1) {
  auto im = std::make_shared<PolicyImage>();
  im->listeners.push_back(*NetAddress::parse("127.0.0.1:5300"));
  PoolSpec p;
  p.name = "main";
  for (const char* a : servers) p.servers.push_back(server(a));
  im->pools.push_back(p);
  for (const std::string& r : rules) {
    RuleSpec spec;
    spec.name = r;
    spec.action = ActionKind::kPool;
    spec.fingerprint = fingerprint;
    im->rules.push_back(spec);
  }
  return im;
}

}  // namespace

TEST_CASE("segmented array: growing never moves an element", "[runtime][reload]") {
  SegmentedArray<Counter, 4, 8> a;
  REQUIRE(a.grow(3));
  Counter* first = &a[0];
  first->add(7);
  REQUIRE(a.grow(29));
  CHECK(&a[0] == first);
  CHECK(a[0].get() == 7);
  CHECK(a[28].get() == 0);
  CHECK(a.size() == 29);
  CHECK_FALSE(a.grow(33));  // past 4 x 8
}

TEST_CASE("registry update: servers and rules by name, counters stay put", "[runtime][reload]") {
  auto one = image({"192.0.2.1:53", "192.0.2.2:53"}, {"a", "b", "default"});
  Registry reg(*one, 2);
  reg.worker(1).rule_hits[1].add(5);
  reg.worker(0).servers[1].queries.add(3);
  Counter* hits_b = &reg.worker(1).rule_hits[1];
  ServerEntry* entry_2 = &reg.server(1);
  entry_2->up.store(false);  // the health checker marked it down

  // b changes, a goes, c comes; server .1 goes, .3 comes.
  auto two = image({"192.0.2.2:53", "192.0.2.3:53"}, {"b", "c", "default"});
  two->rules[0].fingerprint = 2;
  RegistryChanges ch;
  std::string error;
  REQUIRE(reg.update(*two, one.get(), ch, error));
  CHECK(ch.rules_added == 1);
  CHECK(ch.rules_removed == 1);
  CHECK(ch.rules_changed == 1);
  REQUIRE(ch.servers_added.size() == 1);
  REQUIRE(ch.servers_removed.size() == 1);
  CHECK(reg.server(ch.servers_added[0]).key == "main/192.0.2.3:53");
  CHECK(reg.server(ch.servers_removed[0]).key == "main/192.0.2.1:53");
  CHECK_FALSE(reg.server(0).live);
  CHECK(reg.server(2).live);

  // What workers hold did not move, and kept its state.
  CHECK(&reg.worker(1).rule_hits[1] == hits_b);
  CHECK(reg.worker(1).rule_hits[1].get() == 5);
  CHECK(&reg.server(1) == entry_2);
  CHECK_FALSE(reg.server(1).up.load());  // health carries over
  CHECK(reg.worker(0).servers[1].queries.get() == 3);
  CHECK(reg.find_rule("c") == 3);
  CHECK_FALSE(reg.rule_live(static_cast<uint32_t>(reg.find_rule("a"))));

  // A removed server that comes back keeps its id (and counters).
  RegistryChanges back;
  REQUIRE(reg.update(*one, two.get(), back, error));
  REQUIRE(back.servers_added.size() == 1);
  CHECK(back.servers_added[0] == 0);

  auto bound = bind_policy(two, reg);
  REQUIRE(bound->server_live.size() == 3);
}

TEST_CASE("QPS bounds carry over a reload by rule name and ordinal", "[runtime][reload]") {
  auto one = image({"192.0.2.1:53"}, {"limited", "default"});
  LimiterSpec global;
  global.rule = 0;
  global.spec = RateSpec::per_second(1, 1);
  LimiterSpec per_source = global;
  per_source.per_source = true;
  one->limiters = {global, per_source};
  Registry reg(*one, 1);
  auto first = bind_policy(one, reg);
  const uint64_t now = 5'000'000'000ull;
  REQUIRE(first->limiters[0].try_take(global.spec, now));
  CHECK_FALSE(first->limiters[0].try_take(global.spec, now));  // held
  NetAddress client = *NetAddress::parse("10.0.0.1");
  REQUIRE(first->source_tables[1]->try_take(client, now));
  CHECK_FALSE(first->source_tables[1]->try_take(client, now));

  // The rule moves to another index; its bounds follow it.
  auto two = image({"192.0.2.1:53"}, {"new", "limited", "default"});
  global.rule = per_source.rule = 1;
  two->limiters = {global, per_source};
  RegistryChanges ch;
  std::string error;
  REQUIRE(reg.update(*two, one.get(), ch, error));
  auto second = bind_policy(two, reg, first.get());
  CHECK_FALSE(second->limiters[0].try_take(global.spec, now));
  CHECK(second->source_tables[1] == first->source_tables[1]);  // the same table
  CHECK_FALSE(second->source_tables[1]->try_take(client, now));

  // Charges the old policy took during the swap are kept.
  first->limiters[0].restore(now + 9'000'000'000ull);
  carry_limiter_state(*first, *second);
  CHECK_FALSE(second->limiters[0].try_take(global.spec, now + 8'000'000'000ull));
}
