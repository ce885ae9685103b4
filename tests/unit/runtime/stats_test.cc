#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "active_policy.h"
#include "registry.h"
#include "stats.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

std::shared_ptr<PolicyImage> image() {
  auto im = std::make_shared<PolicyImage>();
  im->listeners.push_back(*NetAddress::parse("127.0.0.1:5300"));
  im->acl.push_back({*NetAddress::parse("10.0.0.0"), 8});
  im->acl.push_back({*NetAddress::parse("::1"), 128});
  PoolSpec p;
  p.name = "main";
  p.policy = LbPolicy::kHashed;
  ServerSpec a, b;
  a.address = *NetAddress::parse("192.0.2.1:53");
  b.address = *NetAddress::parse("[2001:db8::1]:5353");
  b.mode = ServerMode::kDown;
  p.servers = {a, b};
  im->pools.push_back(p);
  im->rules.push_back({"first", ActionKind::kDrop, 0, 0, 0, 0});
  im->rules.push_back({"default", ActionKind::kPool, 0, modifier_bits::kTag, 1, 0});
  im->tags = {"t"};
  return im;
}

}  // namespace

TEST_CASE("registry: servers by pool/address:port, forced states, counters summed as JSON", "[runtime]") {
  auto im = image();
  Registry reg(*im, 2);
  REQUIRE(reg.server_count() == 2);
  CHECK(reg.server(0).key == "main/192.0.2.1:53");
  CHECK(reg.server(1).key == "main/[2001:db8::1]:5353");
  CHECK(reg.find_server("main", *NetAddress::parse("[2001:db8::1]:5353")) == 1);
  CHECK(reg.find_server("other", *NetAddress::parse("192.0.2.1:53")) == -1);
  CHECK(reg.server(0).up.load());
  CHECK_FALSE(reg.server(1).up.load());  // state down: never up
  CHECK(reg.find_rule("default") == 1);

  auto active = bind_policy(im, reg);
  CHECK(active->pools[0].lb.policy == LbPolicy::kHashed);
  CHECK(active->pools[0].lb.servers.size() == 2);
  CHECK(acl_allows(*active, *NetAddress::parse("10.1.2.3")));
  CHECK(acl_allows(*active, *NetAddress::parse("::1")));
  CHECK_FALSE(acl_allows(*active, *NetAddress::parse("127.0.0.1")));
  CHECK_FALSE(acl_allows(*active, *NetAddress::parse("::2")));

  reg.worker(0).queries.add(3);
  reg.worker(1).queries.add(4);
  reg.worker(1).malformed[static_cast<unsigned>(ParseError::kBadOpt)].add();
  reg.worker(0).rule_hits[1].add(2);
  reg.worker(1).tag_hits[0].add();
  reg.worker(0).servers[1].queries.add(5);
  reg.worker(1).servers[1].queries.add(6);

  MetricsContext c{&reg, active.get(), 1.5, {{1000, 1001}, {}}, {}};
  rapidjson::Document d;
  std::string json = stats_json(c);
  REQUIRE_FALSE(d.Parse(json.c_str()).HasParseError());
  CHECK(d["queries"].GetUint64() == 7);
  CHECK(d["malformed"]["bad_opt"].GetUint64() == 1);
  CHECK(d["malformed"]["too_short"].GetUint64() == 0);
  CHECK(d["rules"]["default"].GetUint64() == 2);
  CHECK(d["tags"]["t"].GetUint64() == 1);
  CHECK(d["servers"]["main/[2001:db8::1]:5353"]["queries"].GetUint64() == 11);
  CHECK(d["workers"].GetUint64() == 2);

  json = servers_json(c);
  REQUIRE_FALSE(d.Parse(json.c_str()).HasParseError());
  auto& s = d["servers"];
  REQUIRE(s.Size() == 2);
  CHECK(std::string(s[0]["state"].GetString()) == "up");
  CHECK(std::string(s[1]["state"].GetString()) == "down");
  CHECK(std::string(s[1]["mode"].GetString()) == "down");
  CHECK(s[0]["source_ports"].Size() == 2);
  CHECK(std::string(d["pools"][0]["policy"].GetString()) == "hashed");
}
