// The transformer: parse tree -> AST. Every node keeps the byte range it was
// written at; values are typed but nothing is resolved or defaulted yet.
#include <catch2/catch.hpp>

#include "front_test_support.h"

using dnspc::ast::Action;
using dnspc::ast::CompareOp;
using dnspc::ast::EndpointStmt;
using dnspc::ast::Expr;
using dnspc::ast::SetKind;
using dnspc::ast::Value;
using front_test::Parsed;

namespace {

const Expr& condition_of(const Parsed& p, size_t rule = 0) {
  REQUIRE(p.ast().rules.size() > rule);
  return *p.ast().rules[rule].condition;
}

}  // namespace

TEST_CASE("a rule keeps its name, condition, actions and their ranges", "[front][ast]") {
  Parsed p(
      "pool main { server 192.0.2.1; }\n"
      "rule www: qname suffix \"www.example.com.\" => log pool main;\n");
  const auto& rules = p.ast().rules;
  REQUIRE(rules.size() == 1);
  const auto& r = rules[0];
  CHECK(r.name.text == "www");
  CHECK(p.begin(r.name.range).line == 2);
  CHECK(p.begin(r.name.range).column == 6);
  CHECK(p.end(r.name.range).column == 9);
  CHECK_FALSE(r.response);
  // The rule's range runs from 'rule' to the ';'.
  CHECK(p.slice(r.range) == "rule www: qname suffix \"www.example.com.\" => log pool main;");

  const Expr& c = *r.condition;
  CHECK(c.kind == Expr::Kind::kSuffix);
  CHECK(c.field.text == "qname");
  CHECK(p.begin(c.field.range).column == 11);
  CHECK(c.text == "www.example.com.");  // unquoted
  CHECK(p.slice(c.text_range) == "\"www.example.com.\"");
  CHECK(p.slice(c.range) == "qname suffix \"www.example.com.\"");

  REQUIRE(r.actions.size() == 2);
  CHECK(r.actions[0].kind == Action::Kind::kLog);
  CHECK(r.actions[1].kind == Action::Kind::kPool);
  CHECK(r.actions[1].argument.text == "main");
  CHECK(p.begin(r.actions[1].argument.range).column == 55);
  CHECK(p.slice(r.actions[1].range) == "pool main");
}

TEST_CASE("not binds tightest, then and, then or, and parentheses group", "[front][ast]") {
  Parsed p("rule r: rd or cd and not ad => drop;\nrule s: (rd or cd) and ad => drop;\n");
  // rd or (cd and (not ad))
  const Expr& c = condition_of(p, 0);
  REQUIRE(c.kind == Expr::Kind::kOr);
  REQUIRE(c.children.size() == 2);
  CHECK(c.children[0]->kind == Expr::Kind::kFlag);
  CHECK(c.children[0]->field.text == "rd");
  const Expr& conj = *c.children[1];
  REQUIRE(conj.kind == Expr::Kind::kAnd);
  CHECK(conj.children[0]->field.text == "cd");
  REQUIRE(conj.children[1]->kind == Expr::Kind::kNot);
  CHECK(conj.children[1]->children[0]->field.text == "ad");
  CHECK(p.slice(conj.children[1]->range) == "not ad");
  CHECK(p.slice(c.range) == "rd or cd and not ad");

  // (rd or cd) and ad: the parenthesised group is its own node, no paren node.
  const Expr& s = condition_of(p, 1);
  REQUIRE(s.kind == Expr::Kind::kAnd);
  CHECK(s.children[0]->kind == Expr::Kind::kOr);
  CHECK(p.slice(s.children[0]->range) == "rd or cd");
  CHECK(s.children[1]->field.text == "ad");
}

TEST_CASE("chains of and / or become one n-ary node, precedence kept", "[front][ast]") {
  Parsed p("rule r: rd and cd and ad or tc and qr => drop;\n");
  const Expr& c = condition_of(p);
  REQUIRE(c.kind == Expr::Kind::kOr);
  REQUIRE(c.children.size() == 2);
  const Expr& left = *c.children[0];
  REQUIRE(left.kind == Expr::Kind::kAnd);
  REQUIRE(left.children.size() == 3);
  CHECK(left.children[0]->field.text == "rd");
  CHECK(left.children[1]->field.text == "cd");
  CHECK(left.children[2]->field.text == "ad");
  REQUIRE(c.children[1]->kind == Expr::Kind::kAnd);
  CHECK(c.children[1]->children.size() == 2);
}

TEST_CASE("a 20,000-term or chain is one flat node (no recursion per term)", "[front][ast]") {
  std::string text = "rule r: ";
  for (int i = 0; i < 20000; ++i) text += (i ? " or qname == \"a" : "qname == \"a") + std::to_string(i) + ".x.\"";
  text += " => drop;\n";
  Parsed p(text);
  const Expr& c = condition_of(p);
  REQUIRE(c.kind == Expr::Kind::kOr);
  CHECK(c.children.size() == 20000);
}

TEST_CASE("comparisons keep their operator, field and typed value", "[front][ast]") {
  Parsed p(
      "rule a: qname == \"a.example.\" => drop;\n"
      "rule b: qname != \"b.example.\" => drop;\n"
      "rule c: qname.labels < 3 => drop;\n"
      "rule d: edns.payload <= 512 => drop;\n"
      "rule e: size > 100 => drop;\n"
      "rule f: edns.version >= 1 => drop;\n"
      "rule g: qtype == AAAA => drop;\n");
  const CompareOp ops[] = {CompareOp::kEq, CompareOp::kNe, CompareOp::kLt, CompareOp::kLe,
                           CompareOp::kGt, CompareOp::kGe, CompareOp::kEq};
  for (size_t i = 0; i < 7; ++i) {
    INFO("rule " << i);
    CHECK(condition_of(p, i).kind == Expr::Kind::kCompare);
    CHECK(condition_of(p, i).op == ops[i]);
  }
  CHECK(condition_of(p, 0).value.kind == Value::Kind::kString);
  CHECK(condition_of(p, 0).value.text == "a.example.");
  CHECK(condition_of(p, 2).field.text == "qname.labels");
  CHECK(p.slice(condition_of(p, 2).field.range) == "qname.labels");
  CHECK(condition_of(p, 2).value.kind == Value::Kind::kInt);
  CHECK(condition_of(p, 2).value.integer == 3);
  CHECK(condition_of(p, 2).value.number == 3.0);
  CHECK(condition_of(p, 6).value.kind == Value::Kind::kIdent);
  CHECK(condition_of(p, 6).value.text == "AAAA");
  CHECK(p.slice(condition_of(p, 6).value.range) == "AAAA");
}

TEST_CASE("strings are unquoted, with backslash-quote and double backslash as escapes", "[front][ast]") {
  Parsed p("rule r: qname == \"a\\\"b\\\\c\" => drop;\n");
  CHECK(condition_of(p).value.text == "a\"b\\c");
  CHECK(p.slice(condition_of(p).value.range) == "\"a\\\"b\\\\c\"");
}

TEST_CASE("a regex is kept without its slashes, its range inside them", "[front][ast]") {
  Parsed p("rule r: qname ~ /^www\\.[a-z]+\\./ => drop;\n");
  const Expr& c = condition_of(p);
  CHECK(c.kind == Expr::Kind::kRegex);
  CHECK(c.field.text == "qname");
  CHECK(c.text == "^www\\.[a-z]+\\.");
  CHECK(p.slice(c.text_range) == "^www\\.[a-z]+\\.");
  CHECK(p.begin(c.text_range).column == 18);
}

TEST_CASE("in takes a set name, a netmask or an inline list", "[front][ast]") {
  Parsed p(
      "rule a: src in office => drop;\n"
      "rule b: src in 192.0.2.0/24 => drop;\n"
      "rule c: qname in { \"a.example.\", \"b.example.\", } => drop;\n"
      "rule d: qtype in { A, AAAA } => drop;\n");
  const Expr& a = condition_of(p, 0);
  CHECK(a.kind == Expr::Kind::kIn);
  REQUIRE(a.set.name);
  CHECK(a.set.name->text == "office");
  CHECK(a.set.values.empty());

  const Expr& b = condition_of(p, 1);
  CHECK_FALSE(b.set.name);
  REQUIRE(b.set.values.size() == 1);
  CHECK(b.set.values[0].kind == Value::Kind::kNetmask);
  CHECK(b.set.values[0].netmask.prefix == 24);
  CHECK(b.set.values[0].netmask.address.to_string(false) == "192.0.2.0");
  CHECK(p.slice(b.set.values[0].range) == "192.0.2.0/24");

  const Expr& c = condition_of(p, 2);
  REQUIRE(c.set.values.size() == 2);  // a trailing comma is allowed
  CHECK(c.set.values[1].text == "b.example.");
  CHECK(condition_of(p, 3).set.values.size() == 2);
  CHECK(condition_of(p, 3).set.values[1].text == "AAAA");
}

TEST_CASE("qps bounds keep the rate, burst and grouping as written", "[front][ast]") {
  Parsed p(
      "rule a: qps > 100 => drop;\n"
      "rule b: qps > 0.5 burst 10 per src => drop;\n"
      "rule c: qps > 100 per src/24 => drop;\n"
      "rule d: qps > 100 per src/24/56 => drop;\n");
  const Expr& a = condition_of(p, 0);
  CHECK(a.kind == Expr::Kind::kQps);
  CHECK(a.value.number == 100);
  CHECK_FALSE(a.burst);
  CHECK_FALSE(a.per);
  CHECK(a.per_v4 == -1);
  CHECK(a.per_v6 == -1);

  const Expr& b = condition_of(p, 1);
  CHECK(b.value.kind == Value::Kind::kFloat);
  CHECK(b.value.number == 0.5);
  REQUIRE(b.burst);
  CHECK(*b.burst == 10);
  CHECK(p.slice(b.burst_range) == "10");
  REQUIRE(b.per);
  CHECK(b.per->text == "src");
  CHECK(b.per_v4 == -1);

  const Expr& c = condition_of(p, 2);
  CHECK(c.per_v4 == 24);
  CHECK(c.per_v6 == -1);
  CHECK(p.slice(c.per_range) == "src/24");

  const Expr& d = condition_of(p, 3);
  CHECK(d.per_v4 == 24);
  CHECK(d.per_v6 == 56);
  CHECK(p.slice(d.per_range) == "src/24/56");
}

TEST_CASE("probability, tagged, lua, true and false predicates", "[front][ast]") {
  Parsed p(
      "rule a: probability 0.25 => drop;\n"
      "rule b: tagged \"abuse\" => drop;\n"
      "rule c: lua is_bad => drop;\n"
      "rule d: true => drop;\n"
      "rule e: false => drop;\n");
  CHECK(condition_of(p, 0).kind == Expr::Kind::kProbability);
  CHECK(condition_of(p, 0).value.number == 0.25);
  CHECK(condition_of(p, 1).kind == Expr::Kind::kTagged);
  CHECK(condition_of(p, 1).text == "abuse");
  CHECK(condition_of(p, 2).kind == Expr::Kind::kLua);
  CHECK(condition_of(p, 2).text == "is_bad");
  CHECK(p.slice(condition_of(p, 2).text_range) == "is_bad");
  CHECK(condition_of(p, 3).kind == Expr::Kind::kTrue);
  CHECK(condition_of(p, 4).kind == Expr::Kind::kFalse);
}

TEST_CASE("every action and modifier becomes its own node", "[front][ast]") {
  Parsed p(
      "rule a: true => tag \"t\" log delay 150ms no_recurse set_cd pool main;\n"
      "rule b: true => rcode NXDOMAIN;\n"
      "rule c: true => spoof A 192.0.2.1, AAAA 2001:db8::1, CNAME \"x.example.\", TXT \"hi\" ttl 300;\n"
      "rule d: true => drop;\n"
      "rule e: true => refuse;\n"
      "rule f: true => truncate;\n"
      "rule g: true => allow;\n"
      "rule h: true => lua decide;\n"
      "rule i: true => frobnicate;\n");
  const auto& rules = p.ast().rules;
  REQUIRE(rules.size() == 9);
  const auto& a = rules[0].actions;
  REQUIRE(a.size() == 6);
  CHECK(a[0].kind == Action::Kind::kTag);
  CHECK(a[0].argument.text == "t");
  CHECK(a[1].kind == Action::Kind::kLog);
  CHECK(a[2].kind == Action::Kind::kDelay);
  CHECK(a[2].delay_ms == 150);
  CHECK(p.slice(a[2].range) == "delay 150ms");
  CHECK(a[3].kind == Action::Kind::kNoRecurse);
  CHECK(a[4].kind == Action::Kind::kSetCd);
  CHECK(a[5].kind == Action::Kind::kPool);

  CHECK(rules[1].actions[0].kind == Action::Kind::kRcode);
  CHECK(rules[1].actions[0].argument.text == "NXDOMAIN");

  const Action& spoof = rules[2].actions[0];
  CHECK(spoof.kind == Action::Kind::kSpoof);
  REQUIRE(spoof.records.size() == 4);
  CHECK(spoof.records[0].type.text == "A");
  CHECK(spoof.records[0].value.kind == Value::Kind::kNetmask);
  CHECK(spoof.records[0].value.netmask.prefix == -1);
  CHECK(spoof.records[1].value.netmask.address.is_v6());
  CHECK(spoof.records[2].value.text == "x.example.");
  CHECK(spoof.records[3].value.text == "hi");
  CHECK(p.slice(spoof.records[1].range) == "AAAA 2001:db8::1");
  REQUIRE(spoof.ttl);
  CHECK(*spoof.ttl == 300);
  CHECK(p.slice(spoof.ttl_range) == "300");

  CHECK(rules[3].actions[0].kind == Action::Kind::kDrop);
  CHECK(rules[4].actions[0].kind == Action::Kind::kRefuse);
  CHECK(rules[5].actions[0].kind == Action::Kind::kTruncate);
  CHECK(rules[6].actions[0].kind == Action::Kind::kAllow);
  CHECK(rules[7].actions[0].kind == Action::Kind::kLua);
  CHECK(rules[7].actions[0].argument.text == "decide");
  // An unknown word parses, to be named in sema ("did you mean").
  CHECK(rules[8].actions[0].kind == Action::Kind::kUnknown);
  CHECK(rules[8].actions[0].argument.text == "frobnicate");
}

TEST_CASE("durations are converted to milliseconds for every unit", "[front][ast]") {
  Parsed p(
      "rule a: true => delay 7ms drop;\n"
      "rule b: true => delay 2s drop;\n"
      "rule c: true => delay 3m drop;\n"
      "rule d: true => delay 4h drop;\n"
      "rule e: true => delay 5d drop;\n");
  const uint64_t want[] = {7, 2'000, 180'000, 14'400'000, 432'000'000};
  for (size_t i = 0; i < 5; ++i) CHECK(p.ast().rules[i].actions[0].delay_ms == want[i]);
}

TEST_CASE("response rules are kept apart and flagged", "[front][ast]") {
  Parsed p(
      "rule default: true => drop;\n"
      "response rule slow: latency > 500ms => log;\n");
  CHECK(p.ast().rules.size() == 1);
  REQUIRE(p.ast().response_rules.size() == 1);
  const auto& r = p.ast().response_rules[0];
  CHECK(r.response);
  CHECK(r.name.text == "slow");
  CHECK(r.condition->field.text == "latency");
  CHECK(r.condition->value.kind == Value::Kind::kDuration);
  CHECK(r.condition->value.duration_ms == 500);
  CHECK(p.slice(r.range) == "response rule slow: latency > 500ms => log;");
  // `rcode` is a keyword, and also a response field.
  Parsed q("response rule f: rcode == SERVFAIL => drop;\n");
  CHECK(q.ast().response_rules[0].condition->field.text == "rcode");
}

TEST_CASE("global statements: listen, acl, console, web, control, lua, option", "[front][ast]") {
  Parsed p(
      "listen 127.0.0.1, 127.0.0.1:5353, [::1]:5353, ::1;\n"
      "acl 10.0.0.0/8, 2001:db8::/32, 192.0.2.7;\n"
      "console 127.0.0.1:5199;\n"
      "web [::1]:8083;\n"
      "control \"/run/x.sock\";\n"
      "lua \"hooks.lua\";\n"
      "option workers 2;\n"
      "option udp_timeout = 1500ms;\n");
  const auto& ast = p.ast();
  REQUIRE(ast.listens.size() == 1);
  const auto& eps = ast.listens[0].endpoints;
  REQUIRE(eps.size() == 4);
  CHECK_FALSE(eps[0].has_port);
  CHECK(eps[1].has_port);
  CHECK(eps[1].address.port == 5353);
  CHECK(eps[2].address.is_v6());
  CHECK(eps[2].address.port == 5353);
  CHECK(p.slice(eps[2].range) == "[::1]:5353");
  CHECK_FALSE(eps[3].has_port);
  CHECK(eps[3].address.is_v6());

  REQUIRE(ast.acls.size() == 1);
  const auto& nms = ast.acls[0].netmasks;
  REQUIRE(nms.size() == 3);
  CHECK(nms[0].prefix == 8);
  CHECK(nms[1].prefix == 32);
  CHECK(nms[1].address.is_v6());
  CHECK(nms[2].prefix == -1);  // a single host: no length written

  REQUIRE(ast.endpoints.size() == 3);
  CHECK(ast.endpoints[0].kind == EndpointStmt::Kind::kConsole);
  CHECK(ast.endpoints[0].endpoint.address.port == 5199);
  CHECK(ast.endpoints[1].kind == EndpointStmt::Kind::kWeb);
  CHECK(ast.endpoints[1].endpoint.address.is_v6());
  CHECK(ast.endpoints[2].kind == EndpointStmt::Kind::kControl);
  CHECK(ast.endpoints[2].path == "/run/x.sock");

  REQUIRE(ast.lua_files.size() == 1);
  CHECK(ast.lua_files[0].path == "hooks.lua");
  CHECK(p.slice(ast.lua_files[0].range) == "\"hooks.lua\"");

  REQUIRE(ast.options.size() == 2);
  CHECK(ast.options[0].name.text == "workers");
  CHECK(ast.options[0].value.integer == 2);
  CHECK(ast.options[1].name.text == "udp_timeout");
  CHECK(ast.options[1].value.kind == Value::Kind::kDuration);
  CHECK(ast.options[1].value.duration_ms == 1500);
  CHECK(p.begin(ast.options[1].value.range).line == 8);
  CHECK(p.begin(ast.options[1].value.range).column == 22);
}

TEST_CASE("pools keep policy, servers with attributes, and settings", "[front][ast]") {
  Parsed p(
      "pool main {\n"
      "  policy first_available;\n"
      "  server 192.0.2.1 qps 100 weight 2 healthy NOERROR, NXDOMAIN;\n"
      "  server 192.0.2.2:5300;\n"
      "  on_no_server servfail;\n"
      "}\n"
      "pool lb { policy lua pick; }\n");
  REQUIRE(p.ast().pools.size() == 2);
  const auto& main = p.ast().pools[0];
  CHECK(main.name.text == "main");
  REQUIRE(main.policy);
  CHECK(main.policy->text == "first_available");
  CHECK_FALSE(main.policy_is_lua);
  REQUIRE(main.servers.size() == 2);
  const auto& s = main.servers[0];
  CHECK_FALSE(s.endpoint.has_port);
  REQUIRE(s.attrs.size() == 3);
  CHECK(s.attrs[0].name.text == "qps");  // a keyword, allowed as an attribute name
  CHECK(s.attrs[0].values[0].integer == 100);
  CHECK(s.attrs[2].name.text == "healthy");
  REQUIRE(s.attrs[2].values.size() == 2);
  CHECK(s.attrs[2].values[1].text == "NXDOMAIN");
  CHECK(p.begin(s.attrs[1].name.range).line == 3);
  CHECK(p.begin(s.attrs[1].name.range).column == 28);
  CHECK(main.servers[1].endpoint.has_port);
  CHECK(main.servers[1].endpoint.address.port == 5300);
  REQUIRE(main.settings.size() == 1);
  CHECK(main.settings[0].name.text == "on_no_server");
  REQUIRE(main.settings[0].value);
  CHECK(main.settings[0].value->text == "servfail");

  const auto& lb = p.ast().pools[1];
  REQUIRE(lb.policy);
  CHECK(lb.policy->text == "pick");
  CHECK(lb.policy_is_lua);
}

TEST_CASE("sets keep their kind, inline entries or file", "[front][ast]") {
  Parsed p(
      "suffixes bad = { \"evil.example.\", \"botnet.test.\" };\n"
      "names pinned = { \"canary.example.\" };\n"
      "netmasks infected = file \"infected.txt\";\n"
      "qtypes heavy = { ANY, TYPE65 };\n"
      "suffixes none = { };\n");
  const auto& sets = p.ast().sets;
  REQUIRE(sets.size() == 5);
  CHECK(sets[0].kind == SetKind::kSuffixes);
  CHECK(sets[0].entries.size() == 2);
  CHECK_FALSE(sets[0].file);
  CHECK(sets[1].kind == SetKind::kNames);
  CHECK(sets[2].kind == SetKind::kNetmasks);
  REQUIRE(sets[2].file);
  CHECK(*sets[2].file == "infected.txt");
  CHECK(p.slice(sets[2].file_range) == "\"infected.txt\"");
  CHECK(sets[3].kind == SetKind::kQtypes);
  CHECK(sets[3].entries[1].text == "TYPE65");
  CHECK(sets[4].entries.empty());
  CHECK(p.slice(sets[2].name.range) == "infected");
}

TEST_CASE("dynamic blocks keep measure, bound, grouping, window, action, duration", "[front][ast]") {
  Parsed p(
      "dynblock a: queries > 500 per src/24/48 over 10s => pool abuse for 10m except 10.0.0.0/8, ::1;\n"
      "dynblock b: qtype ANY > 20 per src over 5s => truncate for 1h;\n");
  const auto& blocks = p.ast().dynblocks;
  REQUIRE(blocks.size() == 2);
  const auto& a = blocks[0];
  CHECK(a.name.text == "a");
  CHECK(a.measure.text == "queries");
  CHECK_FALSE(a.measure_arg);
  CHECK(a.bound.number == 500);
  CHECK(a.per.text == "src");
  CHECK(a.per_v4 == 24);
  CHECK(a.per_v6 == 48);
  CHECK(a.window_ms == 10'000);
  CHECK(p.slice(a.window_range) == "10s");
  CHECK(a.action.kind == Action::Kind::kPool);
  CHECK(a.action.argument.text == "abuse");
  CHECK(a.duration_ms == 600'000);
  REQUIRE(a.except.size() == 2);
  CHECK(a.except[1].address.is_v6());

  const auto& b = blocks[1];
  CHECK(b.measure.text == "qtype");
  REQUIRE(b.measure_arg);
  CHECK(b.measure_arg->text == "ANY");
  CHECK(b.per_v4 == -1);
  CHECK(p.slice(b.per_range) == "src");  // no lengths: the range of 'src'
  CHECK(b.action.kind == Action::Kind::kTruncate);
  CHECK(b.duration_ms == 3'600'000);
}

TEST_CASE("ranges are byte offsets, also after multi-byte characters", "[front][ast]") {
  // "é" is two bytes but one ANTLR character: ranges must still be bytes.
  Parsed p("# café\nrule r: qname suffix \"café.example.\" => pool main;\n");
  const auto& r = p.ast().rules[0];
  CHECK(p.slice(r.condition->text_range) == "\"café.example.\"");
  CHECK(r.condition->text == "café.example.");
  CHECK(p.slice(r.actions[0].argument.range) == "main");
  CHECK(p.begin(r.actions[0].argument.range).line == 2);
  CHECK(p.begin(r.actions[0].argument.range).column == 47);  // bytes (46 characters)
}

TEST_CASE("value errors are reported by the transformer and the AST is still built", "[front][ast]") {
  Parsed p(
      "pool main { server 192.0.2.300:70000 weight 99999999999999999999; }\n"
      "acl 10.0.0.0/33;\n");
  CHECK_FALSE(p.failed());
  CHECK(p.has("bad-address"));
  CHECK(p.has("bad-port"));
  CHECK(p.has("bad-integer"));
  CHECK(p.has("bad-prefix"));
  // The prefix is clamped to the address size.
  CHECK(p.ast().acls[0].netmasks[0].prefix == 32);
}

TEST_CASE("a file with syntax errors gives no AST", "[front][ast]") {
  Parsed p("rule r: true pool main;\n");
  CHECK(p.failed());
  CHECK(p.has("syntax-arrow"));
  Parsed ok("rule r: true => pool main;\n");
  CHECK_FALSE(ok.failed());
  CHECK(ok.diags().all().empty());
}
