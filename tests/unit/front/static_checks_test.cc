// The static checks (warnings): shadowed and unreachable rules, unused and
// empty pools and sets, duplicate entries, host bits, health-check timeouts,
// tags in query rules. Each warning with the near miss that must stay quiet.
#include <catch2/catch.hpp>

#include "dnspc/sema/sema.h"
#include "front_test_support.h"

using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;

namespace {

// The rules (and whatever else) between the pool and the catch-all; the
// named rule must be reported shadowed, by exactly `by`.
void expect_shadowed(const std::string& middle, std::string_view rule, std::vector<std::string_view> by) {
  Loaded l = load_wrapped(middle);
  INFO(middle);
  INFO(l.text());
  REQUIRE(l.ok());
  REQUIRE(l.count("shadowed-rule") == 1);
  const auto& d = l.first("shadowed-rule");
  CHECK(l.slice(d.range) == rule);
  REQUIRE(d.notes.size() == by.size());
  for (size_t i = 0; i < by.size(); ++i) CHECK(l.slice(d.notes[i].range) == by[i]);
}

void expect_not_shadowed(const std::string& middle) {
  Loaded l = load_wrapped(middle);
  INFO(middle);
  INFO(l.text());
  REQUIRE(l.ok());
  CHECK_FALSE(l.has("shadowed-rule"));
  CHECK_FALSE(l.has("unreachable-rule"));
}

}  // namespace

TEST_CASE("shadowed-rule: a suffix under an earlier suffix, not the reverse", "[front][static]") {
  expect_shadowed("rule a: qname suffix \"example.com.\" => drop;\nrule b: qname suffix \"www.example.com.\" => refuse;",
                  "b", {"a"});
  expect_not_shadowed("rule a: qname suffix \"www.example.com.\" => drop;\nrule b: qname suffix \"example.com.\" => refuse;");
  // A suffix is not a string suffix: badexample.com. is not under example.com.
  expect_not_shadowed("rule a: qname suffix \"example.com.\" => drop;\nrule b: qname suffix \"badexample.com.\" => refuse;");
  // Case and the trailing dot do not matter.
  expect_shadowed("rule a: qname suffix \"Example.COM\" => drop;\nrule b: qname suffix \"www.example.com.\" => refuse;",
                  "b", {"a"});
  // The same suffix twice.
  expect_shadowed("rule a: qname suffix \"x.example.\" => drop;\nrule b: qname suffix \"x.example.\" => refuse;",
                  "b", {"a"});
  // The root covers everything.
  expect_shadowed("rule a: qname suffix \".\" => drop;\nrule b: qname == \"x.example.\" => refuse;", "b", {"a"});
}

TEST_CASE("shadowed-rule: exact names under suffixes and in sets", "[front][static]") {
  expect_shadowed("rule a: qname suffix \"example.com.\" => drop;\nrule b: qname == \"www.example.com.\" => refuse;",
                  "b", {"a"});
  expect_shadowed("rule a: qname suffix \"example.com.\" => drop;\nrule b: qname == \"example.com.\" => refuse;",
                  "b", {"a"});  // a suffix matches its apex
  expect_not_shadowed("rule a: qname == \"www.example.com.\" => drop;\nrule b: qname suffix \"www.example.com.\" => refuse;");
  expect_shadowed(
      "suffixes bad = { \"evil.example.\", \"botnet.test.\" };\n"
      "rule a: qname in bad => drop;\nrule b: qname suffix \"www.botnet.test.\" => refuse;",
      "b", {"a"});
  expect_shadowed(
      "names pinned = { \"a.example.\", \"b.example.\" };\n"
      "rule a: qname in pinned => drop;\nrule b: qname in { \"b.example.\", \"a.example.\" } => refuse;",
      "b", {"a"});
  expect_not_shadowed(
      "names pinned = { \"a.example.\", \"b.example.\" };\n"
      "rule a: qname in pinned => drop;\nrule b: qname in { \"a.example.\", \"c.example.\" } => refuse;");
  // Exact names do not cover the names under them.
  expect_not_shadowed(
      "names pinned = { \"example.com.\" };\n"
      "rule a: qname in pinned => drop;\nrule b: qname suffix \"example.com.\" => refuse;");
}

TEST_CASE("shadowed-rule: a netmask inside an earlier netmask", "[front][static]") {
  expect_shadowed("rule a: src in 10.0.0.0/8 => drop;\nrule b: src in 10.1.0.0/16 => refuse;", "b", {"a"});
  expect_not_shadowed("rule a: src in 10.1.0.0/16 => drop;\nrule b: src in 10.0.0.0/8 => refuse;");
  expect_not_shadowed("rule a: src in 10.0.0.0/8 => drop;\nrule b: src in 11.0.0.0/16 => refuse;");
  expect_shadowed("rule a: src in 2001:db8::/32 => drop;\nrule b: src in 2001:db8:1::/48 => refuse;", "b", {"a"});
  expect_shadowed("rule a: src in 192.0.2.0/24 => drop;\nrule b: src in 192.0.2.7 => refuse;", "b", {"a"});
  // Every netmask of the later rule must be inside.
  expect_not_shadowed("rule a: src in 10.0.0.0/8 => drop;\nrule b: src in { 10.1.0.0/16, 11.0.0.0/16 } => refuse;");
  expect_shadowed("rule a: src in { 10.0.0.0/8, 11.0.0.0/8 } => drop;\nrule b: src in { 11.1.0.0/16, 10.1.0.0/16 } => refuse;",
                  "b", {"a"});
  expect_shadowed("netmasks office = { 192.0.2.0/24 };\nrule a: src in office => drop;\nrule b: src in 192.0.2.128/25 => refuse;",
                  "b", {"a"});
  // Source and destination are different tests.
  expect_not_shadowed("rule a: src in 10.0.0.0/8 => drop;\nrule b: dst in 10.1.0.0/16 => refuse;");
  expect_shadowed("rule a: dst in 10.0.0.0/8 => drop;\nrule b: dst in 10.1.0.0/16 => refuse;", "b", {"a"});
  // IPv4 and IPv6 never cover each other.
  expect_not_shadowed("rule a: src in 0.0.0.0/0 => drop;\nrule b: src in 2001:db8::/32 => refuse;");
}

TEST_CASE("shadowed-rule: a qtype set inside an earlier one", "[front][static]") {
  const std::string heavy = "qtypes heavy = { ANY, DNSKEY, TXT };\n";
  expect_shadowed(heavy + "rule a: qtype in heavy => drop;\nrule b: qtype in { ANY, TXT } => refuse;", "b", {"a"});
  expect_shadowed(heavy + "rule a: qtype in heavy => drop;\nrule b: qtype == DNSKEY => refuse;", "b", {"a"});
  expect_not_shadowed(heavy + "rule a: qtype in heavy => drop;\nrule b: qtype in { ANY, A } => refuse;");
  expect_not_shadowed(heavy + "rule a: qtype == ANY => drop;\nrule b: qtype in heavy => refuse;");
  expect_shadowed("rule a: qtype == ANY => drop;\nrule b: qtype == ANY and rd => refuse;", "b", {"a"});
}

TEST_CASE("shadowed-rule: numeric intervals", "[front][static]") {
  expect_shadowed("rule a: qname.labels > 5 => drop;\nrule b: qname.labels > 6 => refuse;", "b", {"a"});
  expect_shadowed("rule a: qname.labels > 5 => drop;\nrule b: qname.labels == 9 => refuse;", "b", {"a"});
  expect_shadowed("rule a: size >= 512 => drop;\nrule b: size > 511 => refuse;", "b", {"a"});
  expect_not_shadowed("rule a: qname.labels > 5 => drop;\nrule b: qname.labels > 4 => refuse;");
  expect_not_shadowed("rule a: qname.labels > 5 => drop;\nrule b: qname.length > 6 => refuse;");
  expect_not_shadowed("rule a: size < 100 => drop;\nrule b: size != 50 => refuse;");
}

TEST_CASE("shadowed-rule: conjunctions need every earlier test implied", "[front][static]") {
  // The later rule tests more: shadowed.
  expect_shadowed("rule a: qname suffix \"x.example.\" => drop;\nrule b: qname suffix \"x.example.\" and udp => refuse;",
                  "b", {"a"});
  // The earlier rule tests more: not shadowed.
  expect_not_shadowed("rule a: qname suffix \"x.example.\" and udp => drop;\nrule b: qname suffix \"x.example.\" => refuse;");
  expect_shadowed("rule a: not rd => drop;\nrule b: not rd and cd => refuse;", "b", {"a"});
  expect_not_shadowed("rule a: not rd => drop;\nrule b: rd and cd => refuse;");
  // Under a negation implication turns around: "not under example.com."
  // does not cover "not under www.example.com." (foo.example.com. is in b only).
  expect_not_shadowed("rule a: not qname suffix \"example.com.\" => drop;\n"
                      "rule b: not qname suffix \"www.example.com.\" => refuse;");
  expect_not_shadowed("rule a: not src in 10.0.0.0/8 => drop;\nrule b: not src in 10.1.0.0/16 => refuse;");
  // != is not(==).
  expect_shadowed("rule a: qtype != A => drop;\nrule b: qtype != A and rd => refuse;", "b", {"a"});
}

TEST_CASE("shadowed-rule: each alternative covered, by one or several rules", "[front][static]") {
  expect_shadowed(
      "rule a: qname suffix \"a.example.\" => drop;\nrule b: src in 192.0.2.0/24 => refuse;\n"
      "rule c: qname == \"www.a.example.\" or (src in 192.0.2.128/25 and udp) => rcode NXDOMAIN;",
      "c", {"a", "b"});
  expect_not_shadowed(
      "rule a: qname suffix \"a.example.\" => drop;\n"
      "rule c: qname == \"www.a.example.\" or src in 192.0.2.128/25 => rcode NXDOMAIN;");
  // One earlier rule with two alternatives.
  expect_shadowed("rule a: rd or cd => drop;\nrule b: cd and ad => refuse;", "b", {"a"});
}

TEST_CASE("shadowed-rule: rules with stateful tests shadow nothing", "[front][static]") {
  // A QPS bound, a probability, a Lua predicate or a tag may not hold.
  expect_not_shadowed("rule a: qname suffix \"example.com.\" and qps > 10 => drop;\n"
                      "rule b: qname suffix \"www.example.com.\" => refuse;");
  expect_not_shadowed("rule a: qname suffix \"example.com.\" and probability 0.5 => drop;\n"
                      "rule b: qname suffix \"www.example.com.\" => refuse;");
  expect_not_shadowed("lua \"data/hooks.lua\";\nrule a: qname suffix \"example.com.\" and lua deep_name => drop;\n"
                      "rule b: qname suffix \"www.example.com.\" => refuse;");
  // But a stateful later rule is still shadowed by a plain earlier one.
  expect_shadowed("rule a: qname suffix \"example.com.\" => drop;\n"
                  "rule b: qname suffix \"www.example.com.\" and qps > 10 => refuse;",
                  "b", {"a"});
  // An alternative without the stateful test still shadows.
  expect_shadowed("rule a: (rd and probability 0.5) or cd => drop;\nrule b: cd and ad => refuse;", "b", {"a"});
}

TEST_CASE("shadowed-rule: a truncate rule shadows only UDP rules", "[front][static]") {
  expect_shadowed("rule a: qtype == ANY => truncate;\nrule b: qtype == ANY and udp => drop;", "b", {"a"});
  expect_shadowed("rule a: qtype == ANY => truncate;\nrule b: qtype == ANY and transport == udp => drop;", "b", {"a"});
  expect_not_shadowed("rule a: qtype == ANY => truncate;\nrule b: qtype == ANY => drop;");
  expect_not_shadowed("rule a: qtype == ANY => truncate;\nrule b: qtype == ANY and tcp => drop;");
  // A catch-all that truncates is no catch-all.
  expect_not_shadowed("rule a: true => truncate;\nrule b: rd => drop;");
}

TEST_CASE("shadowed-rule: false rules and the warning's place", "[front][static]") {
  // A rule that never matches is not reported as shadowed, and shadows nothing.
  expect_not_shadowed("rule a: false => drop;\nrule b: rd => refuse;");
  expect_not_shadowed("rule a: rd => drop;\nrule b: false => refuse;");
  Loaded l = load_wrapped("rule broad: rd => drop;\nrule narrow: rd and cd => refuse;");
  const auto& d = l.first("shadowed-rule");
  CHECK(d.severity == dnspc::diag::Severity::kWarning);
  CHECK(d.message == "rule 'narrow' can never match: earlier rule 'broad' matches every query it matches");
  CHECK(l.begin(d.range).line == 3);
  CHECK(l.begin(d.range).column == 6);
  CHECK(l.ok());  // warnings do not stop the policy
}

TEST_CASE("unreachable-rule: every rule after a catch-all", "[front][static]") {
  Loaded l = load("pool main { server 192.0.2.1; }\nrule all: true => pool main;\n"
                  "rule late: rd => drop;\nrule default: true => pool main;\n");
  INFO(l.text());
  CHECK(l.count("unreachable-rule") == 2);
  CHECK_NO_CODE(l, "shadowed-rule");
  const auto& d = l.first("unreachable-rule");
  CHECK(l.slice(d.range) == "late");
  REQUIRE(d.notes.size() == 1);
  CHECK(l.slice(d.notes[0].range) == "all");
  // A catch-all through `or true`.
  Loaded via_or = load("pool main { server 192.0.2.1; }\nrule all: rd or true => pool main;\n"
                       "rule default: true => pool main;\n");
  CHECK_CODE(via_or, "unreachable-rule");
  // The catch-all at the end is not unreachable.
  CHECK_CLEAN(load_wrapped("rule a: rd => drop;"));
  // A catch-all with a QPS bound is no catch-all.
  expect_not_shadowed("rule a: qps > 5 => drop;\nrule b: rd => refuse;");
}

TEST_CASE("unused-pool: no rule or block sends queries to it", "[front][static]") {
  Loaded l = load("pool main { server 192.0.2.1; }\npool spare { server 192.0.2.2; }\nrule default: true => pool main;\n");
  INFO(l.text());
  CHECK(l.count("unused-pool") == 1);
  CHECK(l.slice(l.first("unused-pool").range) == "spare");
  CHECK(l.ok());
  // Used by a dynamic block, by allow through the default pool.
  CHECK_CLEAN(load("pool main { server 192.0.2.1; }\npool spare { server 192.0.2.2; }\n"
                   "dynblock d: queries > 5 per src over 5s => pool spare for 1m;\nrule default: true => pool main;\n"));
  CHECK_CLEAN(load("option default_pool spare;\npool main { server 192.0.2.1; }\npool spare { server 192.0.2.2; }\n"
                   "rule r: rd => pool main;\nrule default: true => allow;\n"));
}

TEST_CASE("empty-pool: a pool without servers", "[front][static]") {
  Loaded l = load("pool main { }\nrule default: true => pool main;\n");
  INFO(l.text());
  CHECK(l.slice(l.first("empty-pool").range) == "main");
  CHECK(l.first("empty-pool").message == "pool 'main' has no servers; queries sent to it are dropped");
  CHECK(l.ok());
  CHECK_CLEAN(load("pool main { server 192.0.2.1; }\nrule default: true => pool main;\n"));
}

TEST_CASE("unused-set and empty-set", "[front][static]") {
  Loaded unused = load_wrapped("suffixes bad = { \"x.example.\" };");
  INFO(unused.text());
  CHECK(unused.slice(unused.first("unused-set").range) == "bad");
  CHECK(unused.ok());
  // Used in a response rule counts.
  CHECK_CLEAN(load_wrapped("suffixes bad = { \"x.example.\" };\nresponse rule r: qname in bad => log;"));
  Loaded empty = load_wrapped("netmasks none = { };\nrule r: src in none => drop;");
  INFO(empty.text());
  CHECK(empty.slice(empty.first("empty-set").range) == "none");
  CHECK_NO_CODE(empty, "unused-set");
  CHECK(empty.ok());
  // A file of comments only is empty too.
  Loaded empty_file = load_wrapped("netmasks none = file \"data/comments_only.txt\";\nrule r: src in none => drop;");
  CHECK_CODE(empty_file, "empty-set");
}

TEST_CASE("duplicate-entry: the same entry twice, after normalisation", "[front][static]") {
  Loaded names = load_wrapped("suffixes s = { \"x.example.\", \"y.example.\", \"X.Example\" };\nrule r: qname in s => drop;");
  INFO(names.text());
  const auto& d = names.first("duplicate-entry");
  CHECK(names.slice(d.range) == "\"X.Example\"");
  REQUIRE(d.notes.size() == 1);
  CHECK(names.slice(d.notes[0].range) == "\"x.example.\"");
  CHECK(names.ok());
  CHECK_CODE(load_wrapped("netmasks n = { 10.0.0.0/8, 10.0.0.0/8 };\nrule r: src in n => drop;"), "duplicate-entry");
  CHECK_CODE(load_wrapped("qtypes q = { ANY, any, TYPE255 };\nrule r: qtype in q => drop;"), "duplicate-entry");
  CHECK(load_wrapped("qtypes q = { ANY, any, TYPE255 };\nrule r: qtype in q => drop;").count("duplicate-entry") == 2);
  // In a set file, at the duplicate's own line.
  Loaded file = load_wrapped("suffixes s = file \"data/dup_suffixes.txt\";\nrule r: qname in s => drop;");
  INFO(file.text());
  CHECK(file.begin(file.first("duplicate-entry").range).line == 3);
  CHECK_CLEAN(load_wrapped("suffixes s = { \"x.example.\", \"www.x.example.\" };\nrule r: qname in s => drop;"));
  CHECK_CLEAN(load_wrapped("netmasks n = { 10.0.0.0/8, 10.0.0.0/16 };\nrule r: src in n => drop;"));
}

TEST_CASE("host-bits: a netmask with bits set below its length", "[front][static]") {
  Loaded l = load_wrapped("rule r: src in 10.1.2.3/8 => drop;");
  INFO(l.text());
  CHECK(l.slice(l.first("host-bits").range) == "10.1.2.3/8");
  CHECK(l.first("host-bits").message == "netmask has host bits set; it means 10.0.0.0/8");
  CHECK(l.ok());
  CHECK_CODE(load_wrapped("acl 2001:db8::1/32;"), "host-bits");
  CHECK_CODE(load_wrapped("netmasks n = { 192.0.2.1/24 };\nrule r: src in n => drop;"), "host-bits");
  CHECK_CODE(load_wrapped("dynblock d: queries > 5 per src over 5s => drop for 1m except 10.0.0.1/8;"), "host-bits");
  // A single host has no host bits; nor has a clean netmask.
  CHECK_CLEAN(load_wrapped("rule r: src in { 10.1.2.3, 10.0.0.0/8 } => drop;"));
  CHECK_CLEAN(load_wrapped("rule r: src in 0.0.0.0/0 => drop;"));
}

TEST_CASE("check-timeout: a health-check timeout longer than its interval", "[front][static]") {
  Loaded l = load("pool main { server 192.0.2.1 every 1s timeout 2s; }\nrule default: true => pool main;\n");
  INFO(l.text());
  CHECK_CODE(l, "check-timeout");
  CHECK(l.ok());
  CHECK_CODE(load("pool main { server 192.0.2.1 every 500ms; }\nrule default: true => pool main;\n"),
             "check-timeout");  // against the default timeout (1s)
  CHECK_CLEAN(load("pool main { server 192.0.2.1 every 1s timeout 1s; }\nrule default: true => pool main;\n"));
  CHECK_CLEAN(load("pool main { server 192.0.2.1 every 5s timeout 2s; }\nrule default: true => pool main;\n"));
}

TEST_CASE("tag-never-set: tagged in a query rule, not in a response rule", "[front][static]") {
  Loaded l = load_wrapped("rule r: tagged \"abuse\" => drop;");
  INFO(l.text());
  CHECK(l.slice(l.first("tag-never-set").range) == "tagged \"abuse\"");
  CHECK(l.ok());
  CHECK_CLEAN(load_wrapped("rule r: rd => tag \"abuse\" drop;\nresponse rule s: tagged \"abuse\" => log;"));
}

TEST_CASE("warnings are skipped while the policy has errors", "[front][static]") {
  // The static checks only run on a policy without errors.
  Loaded l = load("pool main { server 192.0.2.1; }\npool spare { server 192.0.2.2; }\n"
                  "rule r: rd => pool mian;\nrule default: true => pool main;\n");
  CHECK_CODE(l, "unknown-pool");
  CHECK_NO_CODE(l, "unused-pool");
}

TEST_CASE("run_static_checks can be run on a model directly", "[front][static]") {
  Loaded l = load_wrapped("rule a: rd => drop;\nrule b: rd and cd => refuse;");
  REQUIRE(l.ok());
  dnspc::diag::SourceManager sources;
  dnspc::diag::Diagnostics diags(sources);
  dnspc::sema::run_static_checks(l.model(), diags);
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].code == "shadowed-rule");
}
