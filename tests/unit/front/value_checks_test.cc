// Value checks: each code is emitted for the bad value, at the value, and not
// for the nearest valid one.
#include <catch2/catch.hpp>
#include <fmt/core.h>

#include "front_test_support.h"

using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;

namespace {

// wrap(middle) must emit `code` and its first one must cover `at`.
void expect_code_at(const std::string& middle, const char* code, std::string_view at) {
  Loaded l = load_wrapped(middle);
  INFO(middle);
  INFO(l.text());
  REQUIRE(l.has(code));
  CHECK(l.slice(l.first(code).range) == at);
  CHECK_FALSE(l.ok());
}

void expect_clean(const std::string& middle) {
  Loaded l = load_wrapped(middle);
  INFO(middle);
  CHECK_CLEAN(l);
}

}  // namespace

TEST_CASE("bad-integer: an integer that does not fit 64 bits", "[front][values]") {
  expect_code_at("dynblock d: queries > 99999999999999999999 per src over 10s => drop for 1m;", "bad-integer",
                 "99999999999999999999");
  expect_clean("dynblock d: queries > 9999999999 per src over 10s => drop for 1m;");
}

TEST_CASE("bad-duration: a duration too long to hold", "[front][values]") {
  expect_code_at("response rule r: latency > 99999999999999999999ms => log;", "bad-duration",
                 "99999999999999999999ms");
  expect_clean("response rule r: latency > 9999999ms => log;");
}

TEST_CASE("bad-address: not an address of its family", "[front][values]") {
  Loaded l = load("pool main { server 192.0.2.300; }\nrule default: true => pool main;\n");
  CHECK(l.slice(l.first("bad-address").range) == "192.0.2.300");
  Loaded v6 = load("pool main { server 2001:db8:::1; }\nrule default: true => pool main;\n");
  CHECK_CODE(v6, "bad-address");
  CHECK_CLEAN(load("pool main { server 192.0.2.255; }\nrule default: true => pool main;\n"));
}

TEST_CASE("bad-port: ports are 1 to 65535", "[front][values]") {
  for (const char* port : {"0", "65536", "70000"}) {
    INFO(port);
    Loaded l = load(std::string("pool main { server 192.0.2.1:") + port + "; }\nrule default: true => pool main;\n");
    CHECK(l.slice(l.first("bad-port").range) == port);
  }
  CHECK_CLEAN(load("pool main { server 192.0.2.1:65535; }\nrule default: true => pool main;\n"));
  CHECK_CLEAN(load("pool main { server 192.0.2.1:1; }\nrule default: true => pool main;\n"));
}

TEST_CASE("bad-prefix: prefix lengths beyond the address size", "[front][values]") {
  expect_code_at("acl 10.0.0.0/33;", "bad-prefix", "33");
  expect_code_at("acl 2001:db8::/129;", "bad-prefix", "129");
  expect_code_at("rule r: qps > 5 per src/33 => drop;", "bad-prefix", "src/33");
  expect_code_at("rule r: qps > 5 per src/24/129 => drop;", "bad-prefix", "src/24/129");
  expect_code_at("dynblock d: queries > 5 per src/24/129 over 10s => drop for 1m;", "bad-prefix", "/24/129");
  expect_clean("acl 10.0.0.0/32, 2001:db8::/128;");
  expect_clean("rule r: qps > 5 per src/32/128 => drop;");
  expect_clean("rule r: qps > 5 per src/0/0 => drop;");
}

TEST_CASE("bad-name: empty names, empty labels, long labels", "[front][values]") {
  expect_code_at("rule r: qname suffix \"\" => drop;", "bad-name", "\"\"");
  expect_code_at("rule r: qname == \"a..example.\" => drop;", "bad-name", "\"a..example.\"");
  expect_code_at("rule r: qname == \"" + std::string(64, 'a') + ".example.\" => drop;", "bad-name",
                 "\"" + std::string(64, 'a') + ".example.\"");
  // 4 x 63-byte labels: 256 bytes in wire form, one too many.
  std::string label(63, 'a');
  expect_code_at("rule r: qname == \"" + label + "." + label + "." + label + "." + label + "\" => drop;",
                 "bad-name", "\"" + label + "." + label + "." + label + "." + label + "\"");
  expect_code_at("suffixes s = { \"a..b\" };\nrule r: qname in s => drop;", "bad-name", "\"a..b\"");
  Loaded check = load("pool main { server 192.0.2.1 check \"a..b\"; }\nrule default: true => pool main;\n");
  CHECK_CODE(check, "bad-name");
  expect_clean("rule r: qname == \"" + std::string(63, 'a') + ".example.\" => drop;");
  expect_clean("rule r: qname suffix \".\" => drop;");
}

TEST_CASE("bad-value: a value of the wrong kind or not one of the choices", "[front][values]") {
  expect_code_at("option timeout_answer maybe;", "bad-value", "maybe");
  expect_code_at("option acl_action accept;", "bad-value", "accept");
  expect_code_at("option udp_timeout 2;", "bad-value", "2");
  expect_code_at("option default_pool \"main\";", "bad-value", "\"main\"");
  expect_code_at("option workers two;", "bad-value", "two");
  expect_code_at("rule r: transport == quic => drop;", "bad-value", "quic");
  expect_code_at("rule r: qclass == XX => drop;", "bad-value", "XX");
  expect_code_at("rule r: opcode == QWERY => drop;", "bad-value", "QWERY");
  expect_code_at("rule r: qname in { 10.0.0.0/8 } => drop;", "bad-value", "10.0.0.0/8");
  expect_code_at("rule r: src in { \"a.example.\" } => drop;", "bad-value", "\"a.example.\"");
  expect_code_at("rule r: qtype in { \"A\" } => drop;", "bad-value", "\"A\"");
  expect_code_at("response rule r: latency > 5 => log;", "bad-value", "5");
  Loaded on_no_server = load("pool main { server 192.0.2.1; on_no_server maybe; }\nrule default: true => pool main;\n");
  CHECK(on_no_server.slice(on_no_server.first("bad-value").range) == "maybe");
  Loaded state = load("pool main { server 192.0.2.1 state maybe; }\nrule default: true => pool main;\n");
  CHECK_CODE(state, "bad-value");
  Loaded two = load("pool main { server 192.0.2.1 weight 2, 3; }\nrule default: true => pool main;\n");
  CHECK(two.slice(two.first("bad-value").range) == "3");
  Loaded every = load("pool main { server 192.0.2.1 every 5; }\nrule default: true => pool main;\n");
  CHECK_CODE(every, "bad-value");
  expect_clean("option timeout_answer servfail;\noption udp_timeout 2s;\noption workers 2;");
  expect_clean("rule r: transport == udp => drop;");
  expect_clean("rule r: qclass == CH and opcode == QUERY => drop;");
}

TEST_CASE("out-of-range: numbers and durations outside their documented range", "[front][values]") {
  struct Case {
    std::string middle;
    std::string at;
  };
  const Case bad[] = {
      {"option workers 65;", "65"},
      {"option workers 0;", "0"},
      {"option udp_timeout 9ms;", "9ms"},
      {"option udp_timeout 61s;", "61s"},
      {"option regex_state_budget 15;", "15"},
      {"option tcp_max_buffered_bytes 511;", "511"},
      {"option tcp_idle_timeout 2h;", "2h"},
      {"option tcp_connect_timeout 2m;", "2m"},
      {"option tcp_backend_connections 0;", "0"},
      {"option tcp_backend_max_in_flight 1025;", "1025"},
      {"rule r: qname.labels > 128 => drop;", "128"},
      {"rule r: qname.length > 256 => drop;", "256"},
      {"rule r: edns.version > 256 => drop;", "256"},
      {"rule r: size > 65536 => drop;", "65536"},
      {"rule r: qps > 0 => drop;", "0"},
      {"rule r: qps > 5 burst 0 => drop;", "0"},
      {"rule r: probability 0 => drop;", "0"},
      {"rule r: probability 1.5 => drop;", "1.5"},
      {"rule r: rd => delay 11s drop;", "delay 11s"},
      {"rule r: rd => delay 0ms drop;", "delay 0ms"},
      {"rule r: rd => spoof A 192.0.2.1 ttl 2147483648;", "2147483648"},
      {"response rule r: answers > 65536 => log;", "65536"},
      {"dynblock d: queries > 0 per src over 10s => drop for 1m;", "0"},
      {"dynblock d: queries > 5 per src over 1500ms => drop for 1m;", "1500ms"},
      {"dynblock d: queries > 5 per src over 2h => drop for 1m;", "2h"},
      {"dynblock d: queries > 5 per src over 10s => drop for 8d;", "8d"},
      {"dynblock d: queries > 5 per src over 10s => drop for 500ms;", "500ms"},
  };
  for (const Case& c : bad) expect_code_at(c.middle, "out-of-range", c.at);
  const std::string good[] = {
      "option workers 64;",
      "option workers 1;",
      "option udp_timeout 10ms;",
      "option udp_timeout 60s;",
      "option max_held_answers 0;",
      "rule r: qname.labels > 127 => drop;",
      "rule r: qname.length > 255 => drop;",
      "rule r: size > 65535 => drop;",
      "rule r: qps > 1000000000 burst 1000000000 => drop;",
      "rule r: probability 1 => drop;",
      "rule r: rd => delay 10s drop;",
      "rule r: rd => delay 1ms drop;",
      "rule r: rd => spoof A 192.0.2.1 ttl 2147483647;",
      "rule r: rd => spoof A 192.0.2.1 ttl 0;",
      "dynblock d: queries > 5 per src over 1h => drop for 7d;",
      "dynblock d: queries > 5 per src over 1s => drop for 1s;",
  };
  for (const std::string& g : good) expect_clean(g);

  Loaded server = load(
      "pool main { server 192.0.2.1 weight 1001 qps 0 order 0 every 50ms timeout 5ms down_after 101 up_after 0; }\n"
      "rule default: true => pool main;\n");
  INFO(server.text());
  CHECK(server.count("out-of-range") == 7);
  CHECK_CLEAN(load(
      "pool main { server 192.0.2.1 weight 1000 qps 10000000 order 1000 every 1h timeout 60s down_after 100 up_after 1; }\n"
      "rule default: true => pool main;\n"));
}

TEST_CASE("bad-regex: irregular or oversized patterns, pointing into the regex", "[front][values]") {
  expect_code_at("rule r: qname ~ /^www(?=x)\\.example\\.$/ => drop;", "bad-regex", "(?=");
  expect_code_at("rule r: qname ~ /^(a)\\1$/ => drop;", "bad-regex", "\\1");
  Loaded budget = load_wrapped("option regex_state_budget 16;\nrule r: qname ~ /[a-z]{20}/ => drop;");
  CHECK_CODE(budget, "bad-regex");
  expect_clean("rule r: qname ~ /^[a-z0-9]{16,}\\.example\\.com\\.$/ => drop;");
  expect_clean("option regex_state_budget 1000;\nrule r: qname ~ /[a-z]{20}/ => drop;");
}

// From 64 distinct patterns on, the DFA constructions run on several
// threads: results still follow the order of first use and every use of a
// bad pattern is reported at its own place.
TEST_CASE("bad-regex: many patterns, compiled on several threads", "[front][values]") {
  auto pattern = [](int i) {
    return fmt::format("^[a-z]+-[0-9]{{{}}}\\.re-{}\\.example\\.$", 1 + i % 4, i);
  };
  std::string good, bad;
  for (int i = 0; i < 300; ++i) {
    // Each pattern used twice.
    std::string rule = fmt::format("rule r{}: qname ~ /{}/ => drop;\n", i, pattern(i));
    std::string again = fmt::format("rule s{}: qname ~ /{}/ => drop;\n", i, pattern(i));
    good += rule + again;
    // Every 100th pattern from the 8th on has a back-reference.
    std::string broken = fmt::format("/^(a)\\1-{}$/", i);
    bad += i % 100 == 7 ? fmt::format("rule r{0}: qname ~ {1} => drop;\n"
                                      "rule s{0}: qname ~ {1} => drop;\n",
                                      i, broken)
                        : rule + again;
  }
  Loaded ok = load_wrapped(good);
  INFO(ok.codes());
  REQUIRE(ok.ok());
  const dnspc::sema::Model& m = ok.model();
  REQUIRE(m.regexes.size() == 300);
  for (const dnspc::sema::Rule& r : m.rules) {
    if (r.condition.kind != dnspc::sema::Cond::Kind::kQnameRegex) continue;
    REQUIRE(r.condition.regex >= 0);
    const dnspc::sema::CompiledRegex& c = m.regexes[static_cast<size_t>(r.condition.regex)];
    CHECK(c.pattern == r.condition.pattern);
    CHECK(c.dfa.state_count > 1);
  }
  CHECK(m.regexes[0].pattern == pattern(0));
  CHECK(m.regexes[299].pattern == pattern(299));

  Loaded failed = load_wrapped(bad);
  INFO(failed.text());
  CHECK(failed.count("bad-regex") == 6);  // 3 bad patterns, each used twice
  CHECK(failed.slice(failed.first("bad-regex").range) == "\\1");
  CHECK_FALSE(failed.ok());
}

TEST_CASE("bad-spoof: records of the wrong type or shape", "[front][values]") {
  expect_code_at("rule r: rd => spoof A 2001:db8::1;", "bad-spoof", "2001:db8::1");
  expect_code_at("rule r: rd => spoof AAAA 192.0.2.1;", "bad-spoof", "192.0.2.1");
  expect_code_at("rule r: rd => spoof A 192.0.2.0/24;", "bad-spoof", "192.0.2.0/24");
  expect_code_at("rule r: rd => spoof CNAME target;", "bad-spoof", "target");
  expect_code_at("rule r: rd => spoof TXT 5;", "bad-spoof", "5");
  expect_code_at("rule r: rd => spoof MX \"x.\";", "bad-spoof", "MX");
  expect_code_at("rule r: rd => spoof TXT \"" + std::string(4001, 'x') + "\";", "bad-spoof",
                 "\"" + std::string(4001, 'x') + "\"");
  expect_code_at("rule r: rd => spoof CNAME \"x.example.\", A 192.0.2.1;", "bad-spoof",
                 "spoof CNAME \"x.example.\", A 192.0.2.1");
  expect_clean("rule r: rd => spoof A 192.0.2.1, AAAA 2001:db8::1, TXT \"" + std::string(4000, 'x') + "\";");
  expect_clean("rule r: rd => spoof CNAME \"x.example.\";");
}

TEST_CASE("bad-set-entry: an entry of the wrong kind, inline or in a file", "[front][values]") {
  expect_code_at("netmasks n = { 192.0.2.0/24, \"x.example.\" };\nrule r: src in n => drop;", "bad-set-entry",
                 "\"x.example.\"");
  expect_code_at("suffixes s = { 192.0.2.1 };\nrule r: qname in s => drop;", "bad-set-entry", "192.0.2.1");
  expect_code_at("names s = { example };\nrule r: qname in s => drop;", "bad-set-entry", "example");
  expect_code_at("qtypes q = { \"A\" };\nrule r: qtype in q => drop;", "bad-set-entry", "\"A\"");

  // A bad line of a set file is reported in that file, at its line and column.
  Loaded l = load_wrapped("netmasks n = file \"data/bad_netmasks.txt\";\nrule r: src in n => drop;");
  INFO(l.text());
  CHECK(l.count("bad-set-entry") == 2);
  const auto& d = l.first("bad-set-entry");
  CHECK(l.diags().sources().path(d.range.file) == front_test::check_dir() + "/data/bad_netmasks.txt");
  CHECK(l.begin(d.range).line == 3);
  CHECK(l.begin(d.range).column == 4);
  CHECK(l.slice(d.range) == "198.51.100.300");
  expect_clean("netmasks n = file \"data/netmasks.txt\";\nrule r: src in n => drop;");
}

TEST_CASE("bad-path: the control socket path is 1 to 100 characters", "[front][values]") {
  expect_code_at("control \"\";", "bad-path", "control \"\";");
  expect_code_at("control \"/" + std::string(100, 'x') + "\";", "bad-path", "control \"/" + std::string(100, 'x') + "\";");
  expect_clean("control \"/" + std::string(99, 'x') + "\";");
}

TEST_CASE("bad-measure: qtype needs a type, the others take none", "[front][values]") {
  expect_code_at("dynblock d: qtype > 20 per src over 5s => drop for 1m;", "bad-measure", "qtype");
  expect_code_at("dynblock d: queries ANY > 20 per src over 5s => drop for 1m;", "bad-measure", "ANY");
  expect_clean("dynblock d: qtype ANY > 20 per src over 5s => drop for 1m;");
}

TEST_CASE("bad-qps-group: bounds and blocks group by src only", "[front][values]") {
  expect_code_at("rule r: qps > 5 per dst => drop;", "bad-qps-group", "dst");
  expect_code_at("dynblock d: queries > 5 per client over 5s => drop for 1m;", "bad-qps-group", "client");
  expect_clean("rule r: qps > 5 per src => drop;");
}
