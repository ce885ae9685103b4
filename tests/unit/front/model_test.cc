// The model sema builds: defaults filled in, names normalised (lower case,
// trailing dot), netmasks with their host bits cleared, `!=` as not(==),
// references resolved to indices.
#include <catch2/catch.hpp>

#include "dnspc/query_view.h"
#include "dnspc/wire.h"
#include "front_test_support.h"

using dnspc::NetAddress;
using dnspc::sema::AclAction;
using dnspc::sema::BlockAction;
using dnspc::sema::Compare;
using dnspc::sema::Cond;
using dnspc::sema::FailureAnswer;
using dnspc::sema::LbPolicy;
using dnspc::sema::Measure;
using dnspc::sema::Model;
using dnspc::sema::ResponseCond;
using dnspc::sema::ResponseTerminal;
using dnspc::sema::ServerState;
using dnspc::sema::SetKind;
using dnspc::sema::Terminal;
using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;
using K = Cond::Kind;

namespace {

// The condition of the first rule of wrap(middle).
Cond first_condition(const std::string& middle) {
  Loaded l = load_wrapped(middle);
  INFO(l.text());
  REQUIRE(l.ok());
  return l.model().rules.at(0).condition;
}

std::string prefix_text(const dnspc::sema::Prefix& p) {
  return p.address.to_string(false) + "/" + std::to_string(p.length);
}

}  // namespace

TEST_CASE("a minimal policy gets the documented defaults", "[front][model]") {
  Loaded l = load("pool main { server 192.0.2.1; }\nrule default: true => pool main;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  CHECK_CLEAN(l);
  const Model& m = l.model();

  // listen 127.0.0.1:53
  REQUIRE(m.listens.size() == 1);
  CHECK(m.listens[0].address == *NetAddress::parse("127.0.0.1:53"));
  // The default ACL: loopback and private ranges.
  std::vector<std::string> acl;
  for (const auto& p : m.acl) acl.push_back(prefix_text(p));
  CHECK(acl == std::vector<std::string>{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                        "100.64.0.0/10", "169.254.0.0/16", "::1/128", "fc00::/7",
                                        "fe80::/10"});
  CHECK_FALSE(m.console);
  CHECK_FALSE(m.web);
  CHECK(m.control_path.empty());
  CHECK(m.lua_files.empty());
  CHECK(m.default_pool == 0);  // the first pool

  // Options.
  const auto& o = m.options;
  CHECK(o.workers == 0);
  CHECK(o.udp_timeout_ms == 2000);
  CHECK(o.timeout_answer == FailureAnswer::kDrop);
  CHECK(o.acl_action == AclAction::kRefuse);
  CHECK(o.max_outstanding == 10'000);
  CHECK(o.sockets_per_backend == 4);
  CHECK(o.default_pool.empty());
  CHECK(o.regex_state_budget == 10'000);
  CHECK(o.source_table_size == 65'536);
  CHECK(o.max_held_answers == 10'000);
  CHECK(o.tcp_max_connections == 10'000);
  CHECK(o.tcp_max_connections_per_client == 32);
  CHECK(o.tcp_max_queries_per_connection == 1'000);
  CHECK(o.tcp_idle_timeout_ms == 10'000);
  CHECK(o.tcp_max_duration_ms == 120'000);
  CHECK(o.tcp_max_buffered_bytes == 262'144);
  CHECK(o.tcp_connect_timeout_ms == 5'000);
  CHECK(o.tcp_backend_timeout_ms == 10'000);
  CHECK(o.tcp_backend_connections == 8);
  CHECK(o.tcp_backend_max_in_flight == 64);

  // The pool and its server.
  REQUIRE(m.pools.size() == 1);
  const auto& pool = m.pools[0];
  CHECK(pool.name == "main");
  CHECK(pool.policy == LbPolicy::kRoundRobin);
  CHECK(pool.no_server == FailureAnswer::kDrop);
  REQUIRE(pool.servers.size() == 1);
  const auto& s = pool.servers[0];
  CHECK(s.address.port == 53);
  CHECK(s.address.to_string() == "192.0.2.1:53");
  CHECK(s.weight == 1);
  CHECK(s.qps == 0);
  CHECK(s.order == 1);
  CHECK(s.state == ServerState::kAuto);
  CHECK(s.check.qname == "a.root-servers.net.");
  CHECK(s.check.qtype == dnspc::qtype::kA);
  CHECK(s.check.interval_ms == 1000);
  CHECK(s.check.timeout_ms == 1000);
  CHECK(s.check.down_after == 1);
  CHECK(s.check.up_after == 1);
  CHECK(s.check.healthy_rcodes == (0xffff & ~(1u << 2)));  // all but SERVFAIL

  // The rule.
  REQUIRE(m.rules.size() == 1);
  CHECK(m.rules[0].name == "default");
  CHECK(m.rules[0].condition.kind == K::kTrue);
  CHECK(m.rules[0].action.terminal == Terminal::kPool);
  CHECK(m.rules[0].action.pool == 0);
  CHECK(m.rules[0].action.ttl == 60);
  CHECK(m.tags.empty());
}

TEST_CASE("options are read, with or without '='", "[front][model]") {
  Loaded l = load(
      "option workers 2;\n"
      "option udp_timeout = 1500ms;\n"
      "option timeout_answer servfail;\n"
      "option max_outstanding 100;\n"
      "option sockets_per_backend 8;\n"
      "option default_pool second;\n"
      "option regex_state_budget 16;\n"
      "option source_table_size 1024;\n"
      "option max_held_answers 0;\n"
      "option tcp_max_connections 5;\n"
      "option tcp_max_connections_per_client 6;\n"
      "option tcp_max_queries_per_connection 7;\n"
      "option tcp_idle_timeout 1m;\n"
      "option tcp_max_duration 1h;\n"
      "option tcp_max_buffered_bytes 512;\n"
      "option tcp_connect_timeout 250ms;\n"
      "option tcp_backend_timeout 2s;\n"
      "option tcp_backend_connections 3;\n"
      "option tcp_backend_max_in_flight 1;\n"
      "pool main { server 192.0.2.1; }\n"
      "pool second { server 192.0.2.2; }\n"
      "rule r: rd => pool main;\n"
      "rule default: true => allow;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  const auto& o = l.model().options;
  CHECK(o.workers == 2);
  CHECK(o.udp_timeout_ms == 1500);
  CHECK(o.timeout_answer == FailureAnswer::kServfail);
  CHECK(o.acl_action == AclAction::kRefuse);  // `drop` cannot be written (known bug)
  CHECK(o.max_outstanding == 100);
  CHECK(o.sockets_per_backend == 8);
  CHECK(o.default_pool == "second");
  CHECK(o.regex_state_budget == 16);
  CHECK(o.source_table_size == 1024);
  CHECK(o.max_held_answers == 0);
  CHECK(o.tcp_max_connections == 5);
  CHECK(o.tcp_max_connections_per_client == 6);
  CHECK(o.tcp_max_queries_per_connection == 7);
  CHECK(o.tcp_idle_timeout_ms == 60'000);
  CHECK(o.tcp_max_duration_ms == 3'600'000);
  CHECK(o.tcp_max_buffered_bytes == 512);
  CHECK(o.tcp_connect_timeout_ms == 250);
  CHECK(o.tcp_backend_timeout_ms == 2'000);
  CHECK(o.tcp_backend_connections == 3);
  CHECK(o.tcp_backend_max_in_flight == 1);
  // `allow` goes to the default pool named by the option.
  CHECK(l.model().default_pool == 1);
  CHECK(l.model().rules[1].action.terminal == Terminal::kAllow);
  CHECK(l.model().rules[1].action.pool == 1);
}

TEST_CASE("allow without the option forwards to the first pool", "[front][model]") {
  Loaded l = load("pool first { server 192.0.2.1; }\nrule default: true => allow;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  CHECK(l.model().rules[0].action.pool == 0);
  CHECK_CLEAN(l);  // the pool counts as used
}

TEST_CASE("listen, acl, console, web, control and lua as written", "[front][model]") {
  Loaded l = load(
      "listen 127.0.0.1, [::1]:5353;\n"
      "listen 192.0.2.53:5300;\n"
      "acl 192.0.2.0/24;\n"
      "acl 2001:db8::/32, 198.51.100.7;\n"
      "console 127.0.0.1:5199;\n"
      "web [::1]:8083;\n"
      "control \"/tmp/x.sock\";\n"
      "lua \"data/hooks.lua\";\n"
      "pool main { server 192.0.2.1; }\nrule default: true => pool main;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  const Model& m = l.model();
  REQUIRE(m.listens.size() == 3);
  CHECK(m.listens[0].address.to_string() == "127.0.0.1:53");  // port 53 by default
  CHECK(m.listens[1].address.port == 5353);
  CHECK(m.listens[1].address.is_v6());
  CHECK(m.listens[2].address.to_string() == "192.0.2.53:5300");
  // acl replaces the default list; several statements add up.
  REQUIRE(m.acl.size() == 3);
  CHECK(prefix_text(m.acl[0]) == "192.0.2.0/24");
  CHECK(prefix_text(m.acl[1]) == "2001:db8::/32");
  CHECK(prefix_text(m.acl[2]) == "198.51.100.7/32");  // a single host
  REQUIRE(m.console);
  CHECK(m.console->address.port == 5199);
  REQUIRE(m.web);
  CHECK(m.web->address.is_v6());
  CHECK(m.control_path == "/tmp/x.sock");
  REQUIRE(m.lua_files.size() == 1);
  // Resolved against the policy's folder.
  CHECK(m.lua_files[0] == front_test::check_dir() + "/data/hooks.lua");
}

TEST_CASE("server attributes fill the server and its health check", "[front][model]") {
  Loaded l = load(
      "pool main {\n"
      "  policy consistent_hash;\n"
      "  server 192.0.2.1:5300 weight 7 qps 1000 order 3 check \"Example.COM\" check_type SOA every 2s\n"
      "         timeout 500ms down_after 3 up_after 2 healthy NOERROR, NXDOMAIN state down;\n"
      "  server 2001:db8::1 state up;\n"
      "  on_no_server servfail;\n"
      "}\n"
      "rule default: true => pool main;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  const auto& pool = l.model().pools[0];
  CHECK(pool.policy == LbPolicy::kConsistentHash);
  CHECK(pool.no_server == FailureAnswer::kServfail);
  const auto& s = pool.servers[0];
  CHECK(s.address.to_string() == "192.0.2.1:5300");
  CHECK(s.weight == 7);
  CHECK(s.qps == 1000);
  CHECK(s.order == 3);
  CHECK(s.check.qname == "example.com.");  // lower case, trailing dot
  CHECK(s.check.qtype == dnspc::qtype::kSOA);
  CHECK(s.check.interval_ms == 2000);
  CHECK(s.check.timeout_ms == 500);
  CHECK(s.check.down_after == 3);
  CHECK(s.check.up_after == 2);
  CHECK(s.check.healthy_rcodes == ((1u << 0) | (1u << 3)));
  CHECK(s.state == ServerState::kDown);
  const auto& v6 = pool.servers[1];
  CHECK(v6.address.is_v6());
  CHECK(v6.address.port == 53);
  CHECK(v6.state == ServerState::kUp);
}

TEST_CASE("every load-balancing policy has its name", "[front][model]") {
  const std::pair<const char*, LbPolicy> policies[] = {
      {"round_robin", LbPolicy::kRoundRobin},         {"least_outstanding", LbPolicy::kLeastOutstanding},
      {"first_available", LbPolicy::kFirstAvailable}, {"weighted_random", LbPolicy::kWeightedRandom},
      {"hashed", LbPolicy::kHashed},                  {"consistent_hash", LbPolicy::kConsistentHash},
  };
  for (const auto& [name, policy] : policies) {
    INFO(name);
    Loaded l = load(std::string("pool main { policy ") + name +
                    "; server 192.0.2.1; }\nrule default: true => pool main;\n");
    INFO(l.text());
    REQUIRE(l.ok());
    CHECK(l.model().pools[0].policy == policy);
  }
  Loaded lua = load(
      "lua \"data/hooks.lua\";\npool main { policy lua first_up; server 192.0.2.1; }\n"
      "rule default: true => pool main;\n");
  INFO(lua.text());
  REQUIRE(lua.ok());
  CHECK(lua.model().pools[0].policy == LbPolicy::kLua);
  CHECK(lua.model().pools[0].lua_policy == "first_up");
}

TEST_CASE("names are lower-cased and get their trailing dot", "[front][model]") {
  Cond suffix = first_condition("rule r: qname suffix \"WWW.Example.COM\" => drop;");
  CHECK(suffix.kind == K::kQnameSuffix);
  CHECK(suffix.names == std::vector<std::string>{"www.example.com."});

  Cond equals = first_condition("rule r: qname == \"Canary.Example.\" => drop;");
  CHECK(equals.kind == K::kQnameEquals);
  CHECK(equals.names == std::vector<std::string>{"canary.example."});

  Cond root = first_condition("rule r: qname suffix \".\" => drop;");
  CHECK(root.names == std::vector<std::string>{"."});

  Cond inline_names = first_condition("rule r: qname in { \"A.example\", \"b.EXAMPLE.\" } => drop;");
  CHECK(inline_names.kind == K::kQnameInNames);
  CHECK(inline_names.set == -1);
  CHECK(inline_names.names == std::vector<std::string>{"a.example.", "b.example."});
}

TEST_CASE("sets are typed, normalised and de-duplicated", "[front][model]") {
  Loaded l = load_wrapped(
      "suffixes bad = { \"Evil.Example\", \"botnet.test.\" };\n"
      "names pinned = { \"Canary.Example.\" };\n"
      "netmasks office = { 10.1.2.3/8, 2001:db8::/32, 192.0.2.7 };\n"
      "qtypes heavy = { ANY, dnskey, TYPE65 };\n"
      "rule a: qname in bad => drop;\n"
      "rule b: qname in pinned => drop;\n"
      "rule c: src in office => drop;\n"
      "rule d: qtype in heavy => drop;");
  INFO(l.text());
  REQUIRE(l.ok());
  const Model& m = l.model();
  REQUIRE(m.sets.size() == 4);
  CHECK(m.sets[0].kind == SetKind::kSuffixes);
  CHECK(m.sets[0].names == std::vector<std::string>{"evil.example.", "botnet.test."});
  CHECK(m.sets[1].kind == SetKind::kNames);
  CHECK(m.sets[1].names == std::vector<std::string>{"canary.example."});
  CHECK(m.sets[2].kind == SetKind::kNetmasks);
  REQUIRE(m.sets[2].prefixes.size() == 3);
  CHECK(prefix_text(m.sets[2].prefixes[0]) == "10.0.0.0/8");  // host bits cleared
  CHECK(prefix_text(m.sets[2].prefixes[1]) == "2001:db8::/32");
  CHECK(prefix_text(m.sets[2].prefixes[2]) == "192.0.2.7/32");
  CHECK(m.sets[3].kind == SetKind::kQtypes);
  CHECK(m.sets[3].qtypes == std::vector<uint16_t>{255, 48, 65});
  CHECK(m.find_set("heavy") == 3);
  CHECK(m.find_set("nope") == -1);

  // `in` resolves to the set's index, and a suffixes set matches as suffixes.
  CHECK(m.rules[0].condition.kind == K::kQnameInSuffixes);
  CHECK(m.rules[0].condition.set == 0);
  CHECK(m.rules[1].condition.kind == K::kQnameInNames);
  CHECK(m.rules[1].condition.set == 1);
  CHECK(m.rules[2].condition.kind == K::kSourceIn);
  CHECK(m.rules[2].condition.set == 2);
  CHECK(m.rules[3].condition.kind == K::kQtypeIn);
  CHECK(m.rules[3].condition.set == 3);

  // A duplicate (after normalisation) is kept once.
  Loaded dup = load_wrapped(
      "suffixes bad = { \"evil.example.\", \"EVIL.example\" };\nrule a: qname in bad => drop;");
  INFO(dup.text());
  REQUIRE(dup.ok());
  CHECK(dup.model().sets[0].names.size() == 1);
}

TEST_CASE("a set file is read one entry a line, comments and blanks skipped", "[front][model]") {
  Loaded l = load_wrapped("netmasks infected = file \"data/netmasks.txt\";\nrule a: src in infected => drop;");
  INFO(l.text());
  REQUIRE(l.ok());
  std::vector<std::string> got;
  for (const auto& p : l.model().sets[0].prefixes) got.push_back(prefix_text(p));
  CHECK(got == std::vector<std::string>{"203.0.113.0/25", "198.51.100.77/32", "2001:db8:dead::/48"});
}

TEST_CASE("netmasks have their host bits cleared", "[front][model]") {
  Cond c = first_condition("rule r: src in { 10.1.2.3/8, 2001:db8::1/32, 192.0.2.255/31 } => drop;");
  CHECK(c.kind == K::kSourceIn);
  REQUIRE(c.prefixes.size() == 3);
  CHECK(prefix_text(c.prefixes[0]) == "10.0.0.0/8");
  CHECK(prefix_text(c.prefixes[1]) == "2001:db8::/32");
  CHECK(prefix_text(c.prefixes[2]) == "192.0.2.254/31");
  CHECK(c.prefixes[0].address.port == 0);

  Cond one = first_condition("rule r: dst in 192.0.2.0/24 => drop;");
  CHECK(one.kind == K::kDestinationIn);
  REQUIRE(one.prefixes.size() == 1);
  CHECK(prefix_text(one.prefixes[0]) == "192.0.2.0/24");

  // The ACL and dynamic block exceptions too.
  Loaded l = load_wrapped("acl 10.9.9.9/8;\ndynblock d: queries > 5 per src over 10s => drop for 1m except 172.16.5.5/12;");
  REQUIRE(l.result().model);
  CHECK(prefix_text(l.model().acl[0]) == "10.0.0.0/8");
  CHECK(prefix_text(l.model().dynblocks[0].except[0]) == "172.16.0.0/12");
}

TEST_CASE("!= becomes not(==)", "[front][model]") {
  Cond name = first_condition("rule r: qname != \"X.example\" => drop;");
  REQUIRE(name.kind == K::kNot);
  REQUIRE(name.children.size() == 1);
  CHECK(name.children[0].kind == K::kQnameEquals);
  CHECK(name.children[0].names == std::vector<std::string>{"x.example."});

  Cond type = first_condition("rule r: qtype != AAAA => drop;");
  REQUIRE(type.kind == K::kNot);
  CHECK(type.children[0].kind == K::kQtype);
  CHECK(type.children[0].compare == Compare::kEq);
  CHECK(type.children[0].number == dnspc::qtype::kAAAA);

  Cond cls = first_condition("rule r: qclass != CH => drop;");
  REQUIRE(cls.kind == K::kNot);
  CHECK(cls.children[0].kind == K::kQclass);
  CHECK(cls.children[0].number == 3);

  Cond eq = first_condition("rule r: qtype == TYPE65 => drop;");
  CHECK(eq.kind == K::kQtype);
  CHECK(eq.number == 65);

  // Numeric fields keep != as a comparison.
  Cond labels = first_condition("rule r: qname.labels != 3 => drop;");
  CHECK(labels.kind == K::kLabelCount);
  CHECK(labels.compare == Compare::kNe);
  CHECK(labels.number == 3);
}

TEST_CASE("every field resolves to its test", "[front][model]") {
  using namespace dnspc::header_bits;
  struct Case {
    const char* condition;
    K kind;
    uint64_t number;
  };
  const Case cases[] = {
      {"qname.labels > 3", K::kLabelCount, 3},
      {"qname.length <= 100", K::kNameLength, 100},
      {"qclass == IN", K::kQclass, 1},
      {"opcode == NOTIFY", K::kOpcode, 4},
      {"rd", K::kHeaderBit, kRD},
      {"cd", K::kHeaderBit, kCD},
      {"ad", K::kHeaderBit, kAD},
      {"ra", K::kHeaderBit, kRA},
      {"aa", K::kHeaderBit, kAA},
      {"tc", K::kHeaderBit, kTC},
      {"edns", K::kEdns, 0},
      {"edns.do", K::kEdnsDo, 0},
      {"edns.version > 0", K::kEdnsVersion, 0},
      {"edns.payload < 1232", K::kEdnsPayload, 1232},
      {"udp", K::kTransport, 0},
      {"tcp", K::kTransport, 1},
      {"transport == tcp", K::kTransport, 1},
      {"transport == udp", K::kTransport, 0},
      {"size >= 512", K::kPacketSize, 512},
  };
  for (const Case& c : cases) {
    INFO(c.condition);
    Cond got = first_condition(std::string("rule r: ") + c.condition + " => drop;");
    CHECK(got.kind == c.kind);
    CHECK(got.number == c.number);
  }
  Cond gt = first_condition("rule r: qname.labels > 3 => drop;");
  CHECK(gt.compare == Compare::kGt);
  Cond regex = first_condition("rule r: qname ~ /^www\\./ => drop;");
  CHECK(regex.kind == K::kQnameRegex);
  CHECK(regex.pattern == "^www\\.");
}

TEST_CASE("qps bounds: burst defaults to the rate, per src to /32 and /64", "[front][model]") {
  Cond plain = first_condition("rule r: qps > 100 => drop;");
  CHECK(plain.kind == K::kQps);
  CHECK(plain.rate == 100);
  CHECK(plain.burst == 100);  // one second's worth
  CHECK_FALSE(plain.per_source);

  Cond per = first_condition("rule r: qps > 100 per src => drop;");
  CHECK(per.per_source);
  CHECK(per.v4_prefix == 32);
  CHECK(per.v6_prefix == 64);

  Cond v4 = first_condition("rule r: qps > 100 per src/24 => drop;");
  CHECK(v4.v4_prefix == 24);
  CHECK(v4.v6_prefix == 64);

  Cond both = first_condition("rule r: qps > 200 burst 400 per src/24/56 => drop;");
  CHECK(both.rate == 200);
  CHECK(both.burst == 400);
  CHECK(both.v4_prefix == 24);
  CHECK(both.v6_prefix == 56);

  // A rate below one still allows a burst of one query.
  Cond slow = first_condition("rule r: qps > 0.5 => drop;");
  CHECK(slow.rate == 0.5);
  CHECK(slow.burst == 1);

  // Under a top-level `and`, next to the rest of the rule.
  Cond joined = first_condition("rule r: qname suffix \"x.example.\" and qps > 10 => drop;");
  REQUIRE(joined.kind == K::kAnd);
  CHECK(joined.children[1].kind == K::kQps);
}

TEST_CASE("probability, tagged and lua conditions", "[front][model]") {
  Cond p = first_condition("rule r: probability 0.25 => drop;");
  CHECK(p.kind == K::kProbability);
  CHECK(p.real == 0.25);

  Loaded l = load(
      "lua \"data/hooks.lua\";\npool main { server 192.0.2.1; }\n"
      "rule r: lua deep_name => tag \"deep\" drop;\nrule default: true => pool main;\n"
      "response rule t: tagged \"deep\" => log;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  CHECK(l.model().rules[0].condition.kind == K::kLua);
  CHECK(l.model().rules[0].condition.function == "deep_name");
  // One tag, one index, shared by the rule that sets it and the one that tests it.
  CHECK(l.model().tags == std::vector<std::string>{"deep"});
  CHECK(l.model().rules[0].action.modifiers.tags == std::vector<int>{0});
  const auto& rc = l.model().response_rules[0].condition;
  REQUIRE(rc.kind == ResponseCond::Kind::kQuery);
  CHECK(rc.query->kind == K::kTagged);
  CHECK(rc.query->number == 0);
}

TEST_CASE("actions: terminals, modifiers, spoofed records", "[front][model]") {
  Loaded l = load(
      "pool main { server 192.0.2.1; }\n"
      "pool abuse { server 192.0.2.66; }\n"
      "rule a: rd => tag \"x\" log delay 100ms no_recurse set_cd pool abuse;\n"
      "rule b: cd => rcode NXDOMAIN;\n"
      "rule c: ad => spoof A 192.0.2.1, AAAA 2001:db8::1, TXT \"hi\";\n"
      "rule d: ra => spoof CNAME \"Target.Example\" ttl 300;\n"
      "rule e: aa => refuse;\n"
      "rule f: tc => truncate;\n"
      "rule g: edns => drop;\n"
      "rule default: true => pool main;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  const auto& rules = l.model().rules;
  const auto& a = rules[0].action;
  CHECK(a.terminal == Terminal::kPool);
  CHECK(a.pool == 1);
  CHECK(a.modifiers.log);
  CHECK(a.modifiers.delay_ms == 100);
  CHECK(a.modifiers.no_recurse);
  CHECK(a.modifiers.set_cd);
  CHECK(a.modifiers.tags == std::vector<int>{0});

  CHECK(rules[1].action.terminal == Terminal::kRcode);
  CHECK(rules[1].action.rcode == 3);

  const auto& spoof = rules[2].action;
  CHECK(spoof.terminal == Terminal::kSpoof);
  CHECK(spoof.ttl == 60);  // the default
  REQUIRE(spoof.records.size() == 3);
  CHECK(spoof.records[0].type == dnspc::qtype::kA);
  CHECK(spoof.records[0].data == std::vector<uint8_t>{192, 0, 2, 1});
  CHECK(spoof.records[1].type == dnspc::qtype::kAAAA);
  CHECK(spoof.records[1].data.size() == 16);
  CHECK(spoof.records[1].data[0] == 0x20);
  CHECK(spoof.records[1].data[15] == 1);
  CHECK(spoof.records[2].type == dnspc::qtype::kTXT);
  CHECK(spoof.records[2].data == std::vector<uint8_t>{'h', 'i'});

  const auto& cname = rules[3].action;
  CHECK(cname.ttl == 300);
  REQUIRE(cname.records.size() == 1);
  CHECK(cname.records[0].type == dnspc::qtype::kCNAME);
  // Wire form of the normalised name.
  const uint8_t wire[] = {6, 't', 'a', 'r', 'g', 'e', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
  CHECK(cname.records[0].data == std::vector<uint8_t>(std::begin(wire), std::end(wire)));

  CHECK(rules[4].action.terminal == Terminal::kRefuse);
  CHECK(rules[5].action.terminal == Terminal::kTruncate);
  CHECK(rules[6].action.terminal == Terminal::kDrop);
  // The action's range is its terminal's.
  CHECK(l.slice(rules[6].action.range) == "drop");
}

TEST_CASE("response rules: response fields, modifiers, terminals", "[front][model]") {
  Loaded l = load(
      "pool main { server 192.0.2.1; }\nrule default: true => pool main;\n"
      "response rule a: rcode == SERVFAIL => tag \"sf\" log;\n"
      "response rule b: latency > 500ms and answers == 0 => drop;\n"
      "response rule c: rcode != NOERROR => rcode NXDOMAIN;\n"
      "response rule d: qname suffix \"x.example.\" => truncate;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  const auto& rr = l.model().response_rules;
  REQUIRE(rr.size() == 4);
  CHECK(rr[0].condition.kind == ResponseCond::Kind::kRcode);
  CHECK(rr[0].condition.compare == Compare::kEq);
  CHECK(rr[0].condition.number == 2);
  CHECK(rr[0].terminal == ResponseTerminal::kNone);
  CHECK(rr[0].modifiers.log);
  CHECK(rr[0].modifiers.tags == std::vector<int>{0});

  REQUIRE(rr[1].condition.kind == ResponseCond::Kind::kAnd);
  CHECK(rr[1].condition.children[0].kind == ResponseCond::Kind::kLatencyMs);
  CHECK(rr[1].condition.children[0].compare == Compare::kGt);
  CHECK(rr[1].condition.children[0].number == 500);
  CHECK(rr[1].condition.children[1].kind == ResponseCond::Kind::kAnswerCount);
  CHECK(rr[1].condition.children[1].number == 0);
  CHECK(rr[1].terminal == ResponseTerminal::kDrop);

  CHECK(rr[2].condition.compare == Compare::kNe);
  CHECK(rr[2].terminal == ResponseTerminal::kRcode);
  CHECK(rr[2].rcode == 3);

  REQUIRE(rr[3].condition.kind == ResponseCond::Kind::kQuery);
  CHECK(rr[3].condition.query->kind == K::kQnameSuffix);
  CHECK(rr[3].terminal == ResponseTerminal::kTruncate);
}

TEST_CASE("dynamic blocks: grouping defaults /32 and /64, actions, qtype measure", "[front][model]") {
  Loaded l = load(
      "pool main { server 192.0.2.1; }\npool abuse { server 192.0.2.66; }\n"
      "dynblock a: queries > 500 per src over 10s => pool abuse for 10m;\n"
      "dynblock b: servfail > 50 per src/24/48 over 1h => refuse for 7d;\n"
      "dynblock c: qtype ANY > 20 per src/16 over 5s => truncate for 1s;\n"
      "dynblock d: nxdomain > 1.5 per src over 1s => no_recurse for 1m;\n"
      "dynblock e: bytes > 100000 per src over 1s => drop for 1m;\n"
      "rule default: true => pool main;\n");
  INFO(l.text());
  REQUIRE(l.ok());
  CHECK_CLEAN(l);  // abuse counts as used
  const auto& b = l.model().dynblocks;
  REQUIRE(b.size() == 5);
  CHECK(b[0].measure == Measure::kQueries);
  CHECK(b[0].bound_per_second == 500);
  CHECK(b[0].v4_prefix == 32);
  CHECK(b[0].v6_prefix == 64);
  CHECK(b[0].window_ms == 10'000);
  CHECK(b[0].action == BlockAction::kPool);
  CHECK(b[0].pool == 1);
  CHECK(b[0].duration_ms == 600'000);
  CHECK(b[1].measure == Measure::kServfail);
  CHECK(b[1].v4_prefix == 24);
  CHECK(b[1].v6_prefix == 48);
  CHECK(b[1].action == BlockAction::kRefuse);
  CHECK(b[1].duration_ms == 7 * 86'400'000ull);
  CHECK(b[2].measure == Measure::kQtype);
  CHECK(b[2].qtype == dnspc::qtype::kANY);
  CHECK(b[2].v4_prefix == 16);
  CHECK(b[2].v6_prefix == 64);
  CHECK(b[2].action == BlockAction::kTruncate);
  CHECK(b[3].measure == Measure::kNxdomain);
  CHECK(b[3].bound_per_second == 1.5);
  CHECK(b[3].action == BlockAction::kNoRecurse);
  CHECK(b[4].measure == Measure::kResponseBytes);
  CHECK(b[4].action == BlockAction::kDrop);
  CHECK(b[4].pool == -1);
}

TEST_CASE("rules keep their name ranges for later passes", "[front][model]") {
  Loaded l = load_wrapped("rule shaped: rd => drop;");
  REQUIRE(l.ok());
  const auto& r = l.model().rules[0];
  CHECK(r.name == "shaped");
  CHECK(l.slice(r.name_range) == "shaped");
  CHECK(l.begin(r.name_range).line == 2);
  CHECK(l.begin(r.name_range).column == 6);
}
