// Name checks: unknown names (with "did you mean" when one is close), Lua
// hooks, and sets used with the wrong field. Each with its valid near miss.
#include <catch2/catch.hpp>

#include "front_test_support.h"

using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;

namespace {

// `text` must emit `code` at `at`, with `message`.
void expect(const Loaded& l, const char* code, std::string_view at, std::string_view message) {
  INFO(l.text());
  REQUIRE(l.has(code));
  const auto& d = l.first(code);
  CHECK(l.slice(d.range) == at);
  CHECK(d.message == message);
  CHECK_FALSE(l.ok());
}

}  // namespace

TEST_CASE("unknown-pool, with a suggestion when one is close", "[front][names]") {
  expect(load_wrapped("rule r: rd => pool mian;"), "unknown-pool", "mian",
         "unknown pool 'mian'; did you mean 'main'?");
  expect(load_wrapped("rule r: rd => pool elsewhere;"), "unknown-pool", "elsewhere", "unknown pool 'elsewhere'");
  expect(load_wrapped("dynblock d: queries > 5 per src over 5s => pool abuse for 1m;"), "unknown-pool", "abuse",
         "unknown pool 'abuse'");
  expect(load_wrapped("option default_pool mian;"), "unknown-pool", "mian", "unknown pool 'mian'; did you mean 'main'?");
  CHECK_CLEAN(load_wrapped("rule r: rd => pool main;"));
  CHECK_CLEAN(load_wrapped("option default_pool main;"));
}

TEST_CASE("pools are declared before or after the rules that use them", "[front][names]") {
  CHECK_CLEAN(load("rule default: true => pool later;\npool later { server 192.0.2.1; }\n"));
}

TEST_CASE("unknown-set", "[front][names]") {
  expect(load_wrapped("suffixes botnet = { \"x.\" };\nrule r: qname in botnte => drop;"), "unknown-set", "botnte",
         "unknown set 'botnte'; did you mean 'botnet'?");
  expect(load_wrapped("rule r: src in office => drop;"), "unknown-set", "office", "unknown set 'office'");
  CHECK_CLEAN(load_wrapped("suffixes botnet = { \"x.\" };\nrule r: qname in botnet => drop;"));
}

TEST_CASE("unknown-field", "[front][names]") {
  expect(load_wrapped("rule r: qnmae suffix \"x.\" => drop;"), "unknown-field", "qnmae",
         "unknown field 'qnmae'; did you mean 'qname'?");
  expect(load_wrapped("rule r: qname.size > 3 => drop;"), "unknown-field", "qname.size",
         "unknown field 'qname.size'");
  // Response fields only exist in response rules.
  Loaded latency = load_wrapped("rule r: latency > 5ms => drop;");
  CHECK_CODE(latency, "unknown-field");
  CHECK_CLEAN(load_wrapped("response rule r: latency > 5ms => drop;"));
}

TEST_CASE("unknown-option", "[front][names]") {
  expect(load_wrapped("option worker 2;"), "unknown-option", "worker",
         "unknown option 'worker'; did you mean 'workers'?");
  expect(load_wrapped("option colour blue;"), "unknown-option", "colour", "unknown option 'colour'");
  CHECK_CLEAN(load_wrapped("option workers 2;"));
}

TEST_CASE("unknown-server-attribute", "[front][names]") {
  expect(load("pool main { server 192.0.2.1 wieght 2; }\nrule default: true => pool main;\n"),
         "unknown-server-attribute", "wieght", "unknown server attribute 'wieght'; did you mean 'weight'?");
  CHECK_CLEAN(load("pool main { server 192.0.2.1 weight 2; }\nrule default: true => pool main;\n"));
}

TEST_CASE("unknown-pool-setting", "[front][names]") {
  expect(load("pool main { server 192.0.2.1; on_no_servers servfail; }\nrule default: true => pool main;\n"),
         "unknown-pool-setting", "on_no_servers",
         "unknown pool setting 'on_no_servers'; did you mean 'on_no_server'?");
  CHECK_CLEAN(load("pool main { server 192.0.2.1; on_no_server servfail; }\nrule default: true => pool main;\n"));
}

TEST_CASE("unknown-policy", "[front][names]") {
  expect(load("pool main { policy round_robbin; server 192.0.2.1; }\nrule default: true => pool main;\n"),
         "unknown-policy", "round_robbin", "unknown load-balancing policy 'round_robbin'; did you mean 'round_robin'?");
  CHECK_CLEAN(load("pool main { policy round_robin; server 192.0.2.1; }\nrule default: true => pool main;\n"));
}

TEST_CASE("unknown-action, in rules and response rules", "[front][names]") {
  expect(load_wrapped("rule r: rd => dorp;"), "unknown-action", "dorp", "unknown action 'dorp'; did you mean 'drop'?");
  expect(load_wrapped("response rule r: rd => trunkate;"), "unknown-action", "trunkate",
         "unknown response action 'trunkate'; did you mean 'truncate'?");
  // Close means within a third of the word: no guess for a short word two edits away.
  expect(load_wrapped("response rule r: rd => lgo;"), "unknown-action", "lgo", "unknown response action 'lgo'");
  CHECK_CLEAN(load_wrapped("rule r: rd => drop;"));
}

TEST_CASE("unknown-qtype, everywhere a type is written", "[front][names]") {
  Loaded l = load_wrapped("rule r: qtype == AAA => drop;");
  INFO(l.text());
  CHECK(l.slice(l.first("unknown-qtype").range) == "AAA");
  CHECK_CODE(load_wrapped("rule r: qtype in { A, TYPEX } => drop;"), "unknown-qtype");
  CHECK_CODE(load_wrapped("qtypes q = { BOGUS };\nrule r: qtype in q => drop;"), "unknown-qtype");
  CHECK_CODE(load_wrapped("dynblock d: qtype BOGUS > 5 per src over 5s => drop for 1m;"), "unknown-qtype");
  CHECK_CODE(load("pool main { server 192.0.2.1 check_type BOGUS; }\nrule default: true => pool main;\n"),
             "unknown-qtype");
  // Mnemonics are case-insensitive; the generic form works for any number.
  CHECK_CLEAN(load_wrapped("rule r: qtype in { aaaa, TYPE65, type65535, DNSKEY } => drop;"));
}

TEST_CASE("unknown-rcode, in actions, response conditions and health checks", "[front][names]") {
  Loaded l = load_wrapped("rule r: rd => rcode NXDOMIAN;");
  INFO(l.text());
  CHECK(l.slice(l.first("unknown-rcode").range) == "NXDOMIAN");
  CHECK_CODE(load_wrapped("response rule r: rcode == SERVFIAL => log;"), "unknown-rcode");
  CHECK_CODE(load_wrapped("response rule r: rd => rcode BOGUS;"), "unknown-rcode");
  CHECK_CODE(load("pool main { server 192.0.2.1 healthy NOERROR, BOGUS; }\nrule default: true => pool main;\n"),
             "unknown-rcode");
  CHECK_CLEAN(load_wrapped("rule r: rd => rcode NXDOMAIN;\nrule s: cd => rcode RCODE15;"));
}

TEST_CASE("unknown-measure", "[front][names]") {
  expect(load_wrapped("dynblock d: querys > 5 per src over 5s => drop for 1m;"), "unknown-measure", "querys",
         "unknown measure 'querys'; did you mean 'queries'?");
  CHECK_CLEAN(load_wrapped("dynblock d: queries > 5 per src over 5s => drop for 1m;"));
}

TEST_CASE("unknown-lua-function, for predicates, actions and policies", "[front][names]") {
  const std::string lua = "lua \"data/hooks.lua\";\n";
  expect(load_wrapped(lua + "rule r: lua deep_nmae => drop;"), "unknown-lua-function", "deep_nmae",
         "no Lua function 'deep_nmae' is defined for this predicate; did you mean 'deep_name'?");
  expect(load_wrapped(lua + "rule r: rd => lua nothing_like_it;"), "unknown-lua-function", "nothing_like_it",
         "no Lua function 'nothing_like_it' is defined for this action");
  Loaded policy = load(lua + "pool main { policy lua first_upp; server 192.0.2.1; }\nrule default: true => pool main;\n");
  CHECK_CODE(policy, "unknown-lua-function");
  CHECK_CODE(load_wrapped(lua + "response rule r: rd => lua nope;"), "unknown-lua-function");
  CHECK_CLEAN(load_wrapped(lua + "rule r: lua deep_name => lua silence;"));
}

TEST_CASE("Lua is not checked when the caller says so", "[front][names]") {
  dnspc::diag::SourceManager sources;
  dnspc::diag::Diagnostics diags(sources);
  dnspc::frontend::LoadOptions options;
  options.check_lua = false;
  auto r = dnspc::frontend::load_policy_text(front_test::check_dir() + "/unit.dp",
                                             front_test::wrap("rule r: lua not_there => drop;"), diags, options);
  CHECK(r.status == dnspc::frontend::LoadStatus::kOk);
  CHECK(diags.all().empty());
}

TEST_CASE("lua-not-function: a global that is not a function", "[front][names]") {
  expect(load_wrapped("lua \"data/hooks.lua\";\nrule r: lua limit => drop;"), "lua-not-function", "limit",
         "Lua global 'limit' is a number, not a function");
}

TEST_CASE("no-lua-file: a Lua hook without a Lua file", "[front][names]") {
  expect(load_wrapped("rule r: lua deep_name => drop;"), "no-lua-file", "deep_name",
         "Lua predicate 'deep_name' needs a Lua file; load one with 'lua \"hooks.lua\";'");
  CHECK_CLEAN(load_wrapped("lua \"data/hooks.lua\";\nrule r: lua deep_name => drop;"));
}

TEST_CASE("set-kind: a set used with a field it does not fit", "[front][names]") {
  expect(load_wrapped("netmasks office = { 192.0.2.0/24 };\nrule r: qname in office => drop;"), "set-kind", "office",
         "set 'office' holds netmasks and cannot be used with 'qname'");
  CHECK_CODE(load_wrapped("suffixes s = { \"x.\" };\nrule r: src in s => drop;"), "set-kind");
  CHECK_CODE(load_wrapped("names s = { \"x.\" };\nrule r: qtype in s => drop;"), "set-kind");
  CHECK_CODE(load_wrapped("qtypes s = { A };\nrule r: dst in s => drop;"), "set-kind");
  // The note points at the set.
  Loaded l = load_wrapped("netmasks office = { 192.0.2.0/24 };\nrule r: qname in office => drop;");
  REQUIRE(l.first("set-kind").notes.size() == 1);
  CHECK(l.slice(l.first("set-kind").notes[0].range) == "office");
  CHECK(l.begin(l.first("set-kind").notes[0].range).line == 2);
  // Both names and suffixes sets fit qname; netmasks fit src and dst.
  CHECK_CLEAN(load_wrapped(
      "names n = { \"x.\" };\nsuffixes s = { \"y.\" };\nnetmasks m = { 10.0.0.0/8 };\nqtypes q = { A };\n"
      "rule a: qname in n => drop;\nrule b: qname in s => drop;\nrule c: src in m => drop;\n"
      "rule d: dst in m => drop;\nrule e: qtype in q => drop;"));
}
