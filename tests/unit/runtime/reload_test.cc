// Hot reload's data side: the registry grows by name without moving what
// workers hold, reports what changed, and QPS state carries over by key.
#include <catch2/catch.hpp>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"
#include "dnspc/runtime/releaser.h"
#include "dnspc/runtime/segmented.h"

#include <atomic>
#include <thread>

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

TEST_CASE("registry plan made off the main loop binds as update alone does", "[runtime][reload]") {
  auto one = image({"192.0.2.1:53"}, {"a", "b", "default"});
  one->tags = {"t1"};
  Registry with_plan(*one, 1), without(*one, 1);
  // b changes, a goes, c and d come (c twice: as a rule and a response rule).
  auto two = image({"192.0.2.1:53"}, {"c", "b", "d", "default"});
  two->rules[1].fingerprint = 2;
  ResponseRuleSpec response;
  response.name = "c";
  two->response_rules.push_back(response);
  two->tags = {"t2", "t1"};

  RegistryPlan plan = with_plan.plan(*two, one.get());
  CHECK(plan.new_rules == std::vector<std::string>{"c", "d"});
  CHECK(plan.new_tags == std::vector<std::string>{"t2"});
  RegistryChanges a, b;
  std::string error;
  REQUIRE(with_plan.update(*two, one.get(), a, error, &plan));
  REQUIRE(without.update(*two, one.get(), b, error));
  CHECK(plan.resolved);
  CHECK(a.rules_added == 2);
  CHECK(a.rules_removed == 1);
  CHECK(a.rules_changed == 1);
  CHECK(a.rules_added == b.rules_added);
  CHECK(a.rules_removed == b.rules_removed);
  CHECK(a.rules_changed == b.rules_changed);
  REQUIRE(with_plan.rule_count() == without.rule_count());
  for (uint32_t id = 0; id < with_plan.rule_count(); ++id) {
    CHECK(with_plan.rule_name(id) == without.rule_name(id));
    CHECK(with_plan.rule_live(id) == without.rule_live(id));
  }
  CHECK_FALSE(with_plan.rule_live(static_cast<uint32_t>(with_plan.find_rule("a"))));
  REQUIRE(with_plan.tag_count() == 2);
  CHECK(with_plan.tag_name(1) == "t2");

  auto planned = bind_policy(two, with_plan, nullptr, &plan);
  auto looked_up = bind_policy(two, without);
  CHECK(planned->rule_ids == looked_up->rule_ids);
  CHECK(planned->response_rule_ids == looked_up->response_rule_ids);
  CHECK(planned->response_rule_ids[0] == planned->rule_ids[0]);  // c's hit counter, shared
  CHECK(planned->tag_ids == looked_up->tag_ids);

  // A plan the registry's names have moved past is not trusted: update()
  // and bind_policy() look the names up again.
  auto three = image({"192.0.2.1:53"}, {"e", "default"});
  auto four = image({"192.0.2.1:53"}, {"f", "default"});
  RegistryPlan stale = with_plan.plan(*three, two.get());
  RegistryChanges c;
  REQUIRE(with_plan.update(*four, two.get(), c, error));
  REQUIRE(with_plan.update(*three, four.get(), c, error, &stale));
  CHECK_FALSE(stale.resolved);
  const int e = with_plan.find_rule("e");
  REQUIRE(e >= 0);
  CHECK(with_plan.rule_name(static_cast<uint32_t>(e)) == "e");
  CHECK(with_plan.rule_live(static_cast<uint32_t>(e)));
  CHECK(bind_policy(three, with_plan, nullptr, &stale)->rule_ids[0] == static_cast<uint32_t>(e));
}

TEST_CASE("releaser frees the old policy off the calling thread, and before it says idle", "[runtime][reload]") {
  struct Probe {
    Probe(std::atomic<bool>* f, std::thread::id* b) : freed(f), by(b) {}
    Probe(const Probe&) = delete;
    std::atomic<bool>* freed;
    std::thread::id* by;
    ~Probe() {
      *by = std::this_thread::get_id();
      freed->store(true);
    }
  };
  std::atomic<bool> freed{false};
  std::thread::id by;
  Releaser releaser;
  releaser.release(std::make_shared<const Probe>(&freed, &by));
  releaser.wait_idle();
  CHECK(freed.load());
  CHECK(by != std::this_thread::get_id());
  CHECK(releaser.freed() == 1);

  // After stop(), release() frees at once, here.
  releaser.stop();
  freed = false;
  releaser.release(std::make_shared<const Probe>(&freed, &by));
  CHECK(freed.load());
  CHECK(by == std::this_thread::get_id());
}
