#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "dnspc/frontend/frontend.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/bridge.h"
#include "dnspc/runtime/runtime.h"
#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;

namespace {

std::shared_ptr<const pipeline::CompiledPolicy> compile(const std::string& text) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("t.dp", text, diags, options);
  INFO(diag::render_text(diags));
  REQUIRE(loaded.model);
  return std::make_shared<const pipeline::CompiledPolicy>(pipeline::compile_model(std::move(*loaded.model)));
}

const char* kPolicy = R"(
listen 127.0.0.1:5300, [::1]:5300;
acl 10.0.0.0/8;
control "/tmp/x.sock";
option workers 3;
option udp_timeout 1500ms;
option timeout_answer servfail;
option acl_action drop;
option max_outstanding 77;
option sockets_per_backend 2;
option tcp_max_connections 11;
option tcp_max_connections_per_client 12;
option tcp_max_queries_per_connection 13;
option tcp_idle_timeout 14s;
option tcp_max_duration 15s;
option tcp_max_buffered_bytes 1600;
option tcp_connect_timeout 17ms;
option tcp_backend_timeout 18ms;
option tcp_backend_connections 19;
option tcp_backend_max_in_flight 20;
option tcp_client_max_in_flight 21;
pool a { policy consistent_hash; server 192.0.2.1 weight 7 check "a.test." check_type SOA every 2s timeout 500ms down_after 3 up_after 2 healthy NOERROR, NXDOMAIN; server [2001:db8::1]:5353 state down order 4 qps 10; on_no_server servfail; }
pool b { server 192.0.2.9; }
rule s: qname == "s.test." => spoof A 192.0.2.5, TXT "hi" ttl 9;
rule t: qname suffix "t.test." => tag "x" log no_recurse set_cd pool b;
rule d: qname suffix "d.test." => delay 5ms drop;
rule q: qname suffix "q.test." and qps > 10 => rcode NXDOMAIN;
rule default: true => allow;
)";

Verdict decide(const runtime::PolicyImage& im, const std::string& name) {
  auto bytes = testing::PacketBuilder().header(1, 0x0100, 1).question(name, 1).bytes();
  QueryView v;
  REQUIRE(parse_query(bytes.data(), bytes.size(), Transport::kUdp, v) == ParseError::kOk);
  std::unique_ptr<RateLimiter[]> limiters(new RateLimiter[4]);
  SourceRateTable* tables[4] = {};
  DecisionState s;
  s.random = 1;
  s.rate_limiters = limiters.get();
  s.source_tables = tables;
  return im.decide(v, s);
}

}  // namespace

TEST_CASE("bridge: the image holds the policy as plain data", "[runtime]") {
  std::string error;
  auto image = runtime_bridge::make_image(compile(kPolicy), "t.dp", nullptr, error);
  const runtime::PolicyImage& im = *image;
  CHECK(runtime::validate(im).empty());
  REQUIRE(im.listeners.size() == 2);
  CHECK(im.listeners[1].to_string(true) == "[::1]:5300");
  REQUIRE(im.acl.size() == 1);
  CHECK(im.acl[0].length == 8);
  CHECK(im.control_path == "/tmp/x.sock");
  CHECK(im.options.workers == 3);
  CHECK(im.options.udp_timeout_ms == 1500);
  CHECK(im.options.timeout_servfail);
  CHECK(im.options.acl_drop);
  CHECK(im.options.max_outstanding == 77);
  CHECK(im.options.sockets_per_backend == 2);
  const runtime::TcpOptions& tcp = im.options.tcp;
  CHECK(tcp.max_connections == 11);
  CHECK(tcp.max_connections_per_client == 12);
  CHECK(tcp.max_queries_per_connection == 13);
  CHECK(tcp.idle_timeout_ms == 14'000);
  CHECK(tcp.max_duration_ms == 15'000);
  CHECK(tcp.max_buffered_bytes == 1600);
  CHECK(tcp.connect_timeout_ms == 17);
  CHECK(tcp.backend_timeout_ms == 18);
  CHECK(tcp.backend_connections == 19);
  CHECK(tcp.backend_max_in_flight == 20);
  CHECK(tcp.client_max_in_flight == 21);

  REQUIRE(im.pools.size() == 2);
  const runtime::PoolSpec& a = im.pools[0];
  CHECK(a.policy == runtime::LbPolicy::kConsistentHash);
  CHECK(a.servfail_on_no_server);
  REQUIRE(a.servers.size() == 2);
  CHECK(a.servers[0].address.to_string(true) == "192.0.2.1:53");
  CHECK(a.servers[0].weight == 7);
  CHECK(a.servers[0].check.qname == "a.test.");
  CHECK(a.servers[0].check.qtype == qtype::kSOA);
  CHECK(a.servers[0].check.interval_ms == 2000);
  CHECK(a.servers[0].check.timeout_ms == 500);
  CHECK(a.servers[0].check.down_after == 3);
  CHECK(a.servers[0].check.up_after == 2);
  CHECK(a.servers[0].check.healthy_rcodes == ((1u << 0) | (1u << 3)));
  CHECK(a.servers[1].mode == runtime::ServerMode::kDown);
  CHECK(a.servers[1].order == 4);
  CHECK(a.servers[1].qps == 10);
  CHECK(im.pools[1].servers[0].check.qname == "a.root-servers.net.");

  REQUIRE(im.rules.size() == 5);
  CHECK(im.rules[0].action == ActionKind::kSpoof);
  REQUIRE(im.spoof_sets.size() == 1);
  CHECK(im.spoof_sets[0].ttl == 9);
  CHECK(im.spoof_sets[0].records.size() == 2);
  CHECK(im.rules[1].name == "t");
  CHECK(im.rules[1].modifiers ==
        (modifier_bits::kTag | modifier_bits::kLog | modifier_bits::kNoRecurse | modifier_bits::kSetCd));
  CHECK(im.rules[1].argument == 1);
  REQUIRE(im.tags.size() == 1);
  CHECK(im.rules[1].tag_bits == 1);
  CHECK(im.rules[2].delay_ms == 5);
  CHECK(im.limiters.size() == 1);
  CHECK(im.rules[4].action == ActionKind::kAllow);
  CHECK(im.rules[4].argument == 0);  // the first pool

  // The runtime holds delayed answers and serves TCP now: neither is listed
  // among what it does not apply.
  CHECK(im.options.max_held_answers == 10'000);
  for (const std::string& w : im.not_applied) {
    CHECK(w.find("delay") == std::string::npos);
    CHECK(w.find("TCP") == std::string::npos);
  }

  // The decision function.
  Verdict v = decide(im, "S.Test.");
  CHECK(v.rule == 0);
  CHECK(v.action == ActionKind::kSpoof);
  v = decide(im, "www.t.test.");
  CHECK(v.rule == 1);
  CHECK(v.argument == 1);
  CHECK(decide(im, "other.").rule == 4);
}

TEST_CASE("bridge: Lua hooks are named once and the programs' uses map to them", "[runtime]") {
  const std::string path = std::filesystem::temp_directory_path() / "dnspc_bridge_hooks.lua";
  {
    std::ofstream f(path);
    f << "function deep(q) return true end\nfunction act(q) return 'drop' end\nfunction pick(s, q) return 1 end\n";
  }
  auto p = compile("lua \"" + path + R"(";
pool p { policy lua pick; server 192.0.2.1; }
rule a: lua deep and rd => drop;
rule b: qname suffix "x." => lua act;
rule c: lua deep => lua act;
rule d: true => pool p;
response rule r: rcode == SERVFAIL => lua act;
)");
  runtime::LuaSpec spec;
  std::string error;
  REQUIRE(runtime_bridge::lua_spec(*p, spec, error));
  CHECK(spec.hooks == std::vector<std::string>{"deep", "act", "pick"});
  CHECK(spec.query_uses.size() == 4);
  CHECK(spec.response_uses == std::vector<uint32_t>{1});
  REQUIRE(spec.files.size() == 1);
  CHECK(spec.files[0].second.find("function pick") != std::string::npos);
  auto image = runtime_bridge::make_image(p, "x.dp", nullptr, error);
  REQUIRE(image);
  CHECK(image->pools[0].policy == runtime::LbPolicy::kLua);
  CHECK(image->pools[0].lua_hook == 2);
  std::filesystem::remove(path);
}

TEST_CASE("bridge: stale_on_timeout reaches the pool, outside the cache's identity", "[runtime]") {
  std::string error;
  auto image = runtime_bridge::make_image(compile(R"(
listen 127.0.0.1:5300;
pool on { server 192.0.2.1; cache 100 stale 1h stale_on_timeout on; }
pool off { server 192.0.2.2; cache 100 stale 1h; }
rule o: qname suffix "off.test." => pool off;
rule default: true => pool on;
)"),
                                          "t.dp", nullptr, error);
  REQUIRE(image);
  REQUIRE(image->pools.size() == 2);
  CHECK(image->pools[0].cache_stale_on_timeout);
  CHECK_FALSE(image->pools[1].cache_stale_on_timeout);
  CHECK(image->pools[0].cache.stale_s == 3600);
  // Equal CacheSpecs: a reload that only turns the setting on or off keeps the entries.
  CHECK(image->pools[0].cache == image->pools[1].cache);
}
