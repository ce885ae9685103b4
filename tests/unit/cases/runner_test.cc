// The case runner: queries encoded and parsed by the real codec, names bound
// to a compiled policy, verdicts decided under virtual time by either
// evaluator, and failures reported with the rule that matched instead.
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/cases/case_file.h"
#include "dnspc/cases/runner.h"
#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"

using namespace dnspc;
using namespace dnspc::cases;

namespace {

pipeline::CompiledPolicy compile(const std::string& text) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("policy.dp", text, diags, options);
  INFO(diag::render_text(diags));
  REQUIRE(loaded.model);
  return pipeline::compile_model(std::move(*loaded.model));
}

const char* kPolicy = R"(
listen 127.0.0.1:5353, [::1]:5353;
pool main { server 192.0.2.1; }
pool other { server 192.0.2.2; }
dynblock flood: queries > 100 per src over 10s => drop for 1m;
rule pinned:  qname == "canary.example." => spoof A 192.0.2.1;
rule gone:    qname suffix "retired.example." => rcode NXDOMAIN;
rule heavy:   qtype == ANY => truncate;
rule noisy:   src in 203.0.113.0/24 => refuse;
rule dnssec:  edns.do or cd => pool other;
rule shaped:  qname suffix "shaped.example." and qps > 10 => drop;
rule local:   dst in { ::1 } => allow;
rule default: true => pool main;
)";

// Parses and binds a case text that must hold no error.
struct Bound {
  ParseResult parsed;
  BindResult bound;
};
Bound bind(const pipeline::CompiledPolicy& policy, const std::string& text) {
  Bound b;
  b.parsed = parse_cases("t.dpt", text);
  REQUIRE(b.parsed.ok());
  b.bound = bind_cases(b.parsed.file, policy);
  std::string errors;
  for (const CaseError& e : b.bound.errors) errors += e.to_string() + "\n";
  INFO(errors);
  REQUIRE(b.bound.ok());
  return b;
}

// Binding errors of a case text that parses.
std::vector<CaseError> bind_errors(const pipeline::CompiledPolicy& policy, const std::string& text) {
  ParseResult parsed = parse_cases("t.dpt", text);
  REQUIRE(parsed.ok());
  return bind_cases(parsed.file, policy).errors;
}

RunResult run(const pipeline::CompiledPolicy& policy, const std::string& text,
              Evaluator evaluator = Evaluator::kOptimized) {
  Bound b = bind(policy, text);
  return run_cases(policy, b.bound, evaluator);
}

std::string joined(const RunResult& r) {
  std::string out;
  for (const std::string& f : r.failures) out += f + "\n";
  return out;
}

QueryView parse_spec(const QuerySpec& spec, std::vector<uint8_t>& packet, uint16_t id = 1) {
  std::string error;
  packet = encode_query(spec, id, error);
  INFO(error);
  REQUIRE(!packet.empty());
  QueryView view;
  REQUIRE(parse_query(packet.data(), packet.size(), spec.transport, view) == ParseError::kOk);
  return view;
}

}  // namespace

TEST_CASE("encoded queries parse back to what the case says", "[cases]") {
  ParseResult r = parse_cases("t.dpt",
                              "WWW.Example.COM AAAA CH tcp nord cd ad opcode NOTIFY id 4660 do payload 4096 "
                              "ednsversion 1 option NSID option 65001 ecs 192.0.2.0/24 padding 64 => r");
  REQUIRE(r.ok());
  const QuerySpec& spec = r.file.cases[0].query;
  std::vector<uint8_t> packet;
  QueryView v = parse_spec(spec, packet, *spec.id);
  CHECK(v.id == 4660);
  CHECK(v.transport == Transport::kTcp);
  CHECK(v.qtype == 28);
  CHECK(v.qclass == 3);
  CHECK(v.opcode == 4);
  CHECK_FALSE(v.has_flag(header_bits::kRD));
  CHECK(v.has_flag(header_bits::kCD));
  CHECK(v.has_flag(header_bits::kAD));
  CHECK_FALSE(v.has_flag(header_bits::kQR));
  CHECK(v.qdcount == 1);
  CHECK(v.arcount == 1);
  CHECK(v.edns_present);
  CHECK(v.edns_do);
  CHECK(v.edns_payload == 4096);
  CHECK(v.edns_version == 1);
  REQUIRE(v.edns_option_count == 4);
  CHECK(v.edns_options[0] == 3);
  CHECK(v.edns_options[1] == 65001);
  CHECK(v.edns_options[2] == 8);
  CHECK(v.edns_options[3] == 12);
  CHECK(v.ecs_present);
  CHECK(v.ecs_family == AddressFamily::kIPv4);
  CHECK(v.ecs_source_prefix == 24);
  CHECK(v.ecs_address[0] == 192);
  CHECK(v.ecs_address[2] == 2);
  CHECK(v.trailing == 0);
  CHECK(v.label_count == 3);
  char text[256];
  CHECK(std::string(text, qname_text(v, text, sizeof text)) == "www.example.com.");
  // The client's case stays in the packet.
  CHECK(packet[13] == 'W');

  SECTION("without EDNS there is no OPT record") {
    ParseResult plain = parse_cases("t.dpt", "a.example => r");
    std::vector<uint8_t> p2;
    QueryView v2 = parse_spec(plain.file.cases[0].query, p2);
    CHECK_FALSE(v2.edns_present);
    CHECK(v2.arcount == 0);
    CHECK(v2.has_flag(header_bits::kRD));
    CHECK(v2.qtype == 1);
    CHECK(v2.qclass == 1);
    CHECK(p2.size() == 12 + 11 + 4);
  }
  SECTION("padding makes the packet larger by its size") {
    ParseResult a = parse_cases("t.dpt", "a.example edns => r\na.example padding 100 => r");
    std::vector<uint8_t> p1, p2;
    parse_spec(a.file.cases[0].query, p1);
    parse_spec(a.file.cases[1].query, p2);
    CHECK(p2.size() == p1.size() + 104);
  }
  SECTION("the root name") {
    ParseResult a = parse_cases("t.dpt", ". NS => r");
    std::vector<uint8_t> p;
    QueryView root = parse_spec(a.file.cases[0].query, p);
    CHECK(root.qname_length == 1);
    CHECK(root.label_count == 0);
  }
}

TEST_CASE("encode_query refuses invalid names and oversized packets", "[cases]") {
  QuerySpec spec;
  spec.qname = "a..b";
  std::string error;
  CHECK(encode_query(spec, 1, error).empty());
  CHECK(error.find("not a valid DNS name") != std::string::npos);
  spec.qname = "a.example";
  spec.edns = true;
  spec.options.push_back({12, std::vector<uint8_t>(40000, 0)});
  spec.options.push_back({12, std::vector<uint8_t>(40000, 0)});
  error.clear();
  CHECK(encode_query(spec, 1, error).empty());
  CHECK(error.find("65535") != std::string::npos);
}

TEST_CASE("binding resolves rules and checks actions against the policy", "[cases]") {
  auto policy = compile(kPolicy);
  Bound b = bind(policy,
                 "a.example => default pool main\n"
                 "a.example => gone rcode NXDOMAIN\n"
                 "a.example => gone rcode nxdomain\n"
                 "a.example => pinned spoof\n"
                 "a.example => heavy truncate\n"
                 "a.example => noisy refuse\n"
                 "a.example => shaped drop\n"
                 "a.example => local allow main\n"
                 "a.example => local allow\n"
                 "a.example => dnssec\n"
                 "x3 a.example => default*2, gone\n");
  REQUIRE(b.bound.cases.size() == 11);
  CHECK(b.bound.cases[0].expect[0].rule == 7);
  CHECK(b.bound.cases[1].expect[0].rule == 1);
  CHECK(b.bound.cases[10].expect.size() == 2);
  CHECK(b.bound.cases[10].expect[0].count == 2);
  CHECK(b.bound.cases[10].expect[1].rule == 1);
  // The destination defaults to the policy's first listen address.
  CHECK(b.bound.cases[0].destination.to_string() == "127.0.0.1:5353");
  // The ID defaults to the line number.
  CHECK(read_id(b.bound.cases[3].packet.data()) == 4);

  auto e = bind_errors(policy, "a.example => defualt\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].line == 1);
  CHECK(e[0].message == "the policy has no rule 'defualt'; did you mean 'default'?");
  e = bind_errors(policy, "\n\na.example => zzzzzzzz\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].to_string() == "t.dpt:3: the policy has no rule 'zzzzzzzz'");
  // A dynamic block's name expects the query to be blocked; its action is checked too.
  b = bind(policy, "a.example => flood\na.example => flood drop\n");
  CHECK(b.bound.cases[0].expect[0].rule == 8);  // past the 8 rules
  CHECK(b.bound.blocks.size() == 1);
  e = bind_errors(policy, "a.example => flood refuse\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].message.find("dynamic block 'flood' is 'drop', never 'refuse'") == 0);
  e = bind_errors(policy, "a.example => flod\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].message == "the policy has no rule 'flod'; did you mean 'flood'?");
  e = bind_errors(policy, "a.example => default no_recurse\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].message.find("'no_recurse' is the action of a dynamic block") == 0);
  e = bind_errors(policy, "a.example => default drop\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].message.find("rule 'default' is 'pool main', never 'drop'") == 0);
  e = bind_errors(policy, "a.example => default pool other\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].message.find("never 'pool other'") != std::string::npos);
  e = bind_errors(policy, "a.example => gone rcode SERVFAIL\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0].message.find("rule 'gone' is 'rcode NXDOMAIN', never 'rcode SERVFAIL'") == 0);
  e = bind_errors(policy, "a.example => local allow other\n");
  REQUIRE(e.size() == 1);
  e = bind_errors(policy, "a.example => local pool main\n");  // allow is not pool
  REQUIRE(e.size() == 1);
  e = bind_errors(policy, "x2 a.example => default, nope\nb.example => nope2\n");
  REQUIRE(e.size() == 2);
  CHECK(e[0].line == 1);
  CHECK(e[1].line == 2);
}

TEST_CASE("a policy without listen sends to 127.0.0.1:53", "[cases]") {
  auto policy = compile("pool main { server 192.0.2.1; }\nrule default: true => pool main;\n");
  Bound b = bind(policy, "a.example => default\na.example to 192.0.2.53:5300 => default\n");
  CHECK(b.bound.cases[0].destination.to_string() == "127.0.0.1:53");
  CHECK(b.bound.cases[1].destination.to_string() == "192.0.2.53:5300");
}

TEST_CASE("every rule decides its own cases, with either evaluator", "[cases]") {
  auto policy = compile(kPolicy);
  const char* cases =
      "canary.example => pinned spoof\n"
      "canary.example AAAA => pinned\n"
      "www.retired.example => gone rcode NXDOMAIN\n"
      "example.com ANY => heavy truncate\n"
      "example.com ANY tcp => default pool main\n"          // truncate falls through over TCP
      "example.com ANY tcp do => dnssec pool other\n"
      "www.example.com from 203.0.113.9 => noisy refuse\n"
      "www.example.com do => dnssec pool other\n"
      "www.example.com cd => dnssec\n"
      "www.example.com edns => default\n"
      "www.example.com to [::1]:5353 => local allow main\n"
      "www.example.com to 127.0.0.1:5353 => default\n"
      "www.example.com => default pool main\n";
  for (Evaluator ev : {Evaluator::kOptimized, Evaluator::kInterpreter}) {
    RunResult r = run(policy, cases, ev);
    INFO(joined(r));
    CHECK(r.failed == 0);
    CHECK(r.passed == 13);
    CHECK(r.queries == 13);
  }
}

TEST_CASE("failures name the rule that matched instead", "[cases]") {
  auto policy = compile(kPolicy);
  RunResult r = run(policy,
                    "# comment\n"
                    "www.example.com => gone rcode NXDOMAIN\n"
                    "www.example.com from 203.0.113.9:1234 tcp => default\n"
                    "www.example.com => default\n");
  CHECK(r.passed == 1);
  CHECK(r.failed == 2);
  REQUIRE(r.failures.size() == 2);
  CHECK(r.failures[0] ==
        "t.dpt:2: expected rule 'gone' (rcode NXDOMAIN), got rule 'default' (pool main) for www.example.com. A "
        "from 127.0.0.1");
  RunResult ch = run(policy, "version.bind TXT CH => gone\nversion.bind TXT CLASS42 => gone\n");
  REQUIRE(ch.failures.size() == 2);
  CHECK(ch.failures[0].find("for version.bind. TXT CH from 127.0.0.1") != std::string::npos);
  CHECK(ch.failures[1].find("for version.bind. TXT CLASS42 from 127.0.0.1") != std::string::npos);
  CHECK(r.failures[1] ==
        "t.dpt:3: expected rule 'default' (pool main), got rule 'noisy' (refuse) for www.example.com. A from "
        "203.0.113.9:1234 over tcp");
}

TEST_CASE("repeats: a sequence of verdicts, failures grouped by run", "[cases]") {
  auto policy = compile(kPolicy);
  // qps > 10: the bucket holds 10 (burst = one second's worth).
  RunResult good = run(policy, "at 0s x15 a.shaped.example => default*10, shaped drop*5\n");
  INFO(joined(good));
  CHECK(good.passed == 1);
  CHECK(good.queries == 15);

  RunResult bad = run(policy, "x15 a.shaped.example => default*12, shaped*3\n");
  CHECK(bad.failed == 1);
  REQUIRE(bad.failures.size() == 1);
  CHECK(bad.failures[0] ==
        "t.dpt:1: repetitions 11-12 of 15: expected rule 'default' (pool main), got rule 'shaped' (drop) for "
        "a.shaped.example. A from 127.0.0.1");

  RunResult one = run(policy, "x15 a.shaped.example => default*9, shaped*6\n");
  REQUIRE(one.failures.size() == 1);
  CHECK(one.failures[0].find("t.dpt:1: repetition 10 of 15: expected rule 'shaped' (drop), got rule 'default'") ==
        0);

  RunResult two = run(policy, "x12 a.shaped.example => shaped*2, default*10\n");  // fails twice, apart
  CHECK(two.failed == 1);
  REQUIRE(two.failures.size() == 2);
  CHECK(two.failures[0].find("repetitions 1-2 of 12: expected rule 'shaped' (drop), got rule 'default'") !=
        std::string::npos);
  CHECK(two.failures[1].find("repetitions 11-12 of 12: expected rule 'default' (pool main), got rule 'shaped'") !=
        std::string::npos);
}

TEST_CASE("virtual time refills buckets and the clock stays between cases", "[cases]") {
  auto policy = compile(kPolicy);
  const char* cases =
      "at 0s x12 a.shaped.example => default*10, shaped*2\n"
      "a.shaped.example => shaped\n"                                // still at 0s
      "at 100ms x2 a.shaped.example => default, shaped\n"          // 10/s: one token per 100 ms
      "at +500ms x6 a.shaped.example => default*5, shaped\n"       // 600 ms: five more
      "at 2s x10 every 100ms a.shaped.example => default\n"        // full bucket, then at the rate
      "a.shaped.example => default\n"                               // 2.9 s: nine tokens left
      "at 10s x10 every 1ms a.shaped.example => default\n"         // the burst, spread out
      "a.shaped.example => shaped drop\n";                          // 10.009 s: nothing left
  for (Evaluator ev : {Evaluator::kOptimized, Evaluator::kInterpreter}) {
    RunResult r = run(policy, cases, ev);
    INFO(joined(r));
    CHECK(r.failed == 0);
  }
  RunResult r = run(policy, "at 1500ms x12 a.shaped.example => default*12\n");
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].find("for a.shaped.example. A from 127.0.0.1 at 1500ms") != std::string::npos);
}

TEST_CASE("each run starts with fresh state", "[cases]") {
  auto policy = compile(kPolicy);
  Bound b = bind(policy, "x10 a.shaped.example => default\n");
  CHECK(run_cases(policy, b.bound, Evaluator::kOptimized).failed == 0);
  CHECK(run_cases(policy, b.bound, Evaluator::kOptimized).failed == 0);
  CHECK(run_cases(policy, b.bound, Evaluator::kInterpreter).failed == 0);
}

TEST_CASE("a query the codec rejects fails its case", "[cases]") {
  auto policy = compile(kPolicy);
  ParseResult parsed = parse_cases("t.dpt", "a.example => default\n");
  REQUIRE(parsed.ok());
  // An empty ECS option is malformed; the parser refuses to write one, so
  // build it by hand.
  parsed.file.cases[0].query.edns = true;
  parsed.file.cases[0].query.options.push_back({8, {}});
  BindResult bound = bind_cases(parsed.file, policy);
  REQUIRE(bound.ok());
  RunResult r = run_cases(policy, bound, Evaluator::kOptimized);
  CHECK(r.failed == 1);
  CHECK(r.queries == 0);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0] == "t.dpt:1: the codec rejected the query (bad_opt); nothing was decided");
}


TEST_CASE("describe_verdict", "[cases]") {
  auto policy = compile(kPolicy);
  const ir::Program& p = policy.reference;
  CHECK(describe_verdict(p, p.verdict_of(0)) == "rule 'pinned' (spoof)");
  CHECK(describe_verdict(p, p.verdict_of(1)) == "rule 'gone' (rcode NXDOMAIN)");
  CHECK(describe_verdict(p, p.verdict_of(2)) == "rule 'heavy' (truncate)");
  CHECK(describe_verdict(p, p.verdict_of(3)) == "rule 'noisy' (refuse)");
  CHECK(describe_verdict(p, p.verdict_of(4)) == "rule 'dnssec' (pool other)");
  CHECK(describe_verdict(p, p.verdict_of(5)) == "rule 'shaped' (drop)");
  CHECK(describe_verdict(p, p.verdict_of(6)) == "rule 'local' (allow, pool main)");
  CHECK(describe_verdict(p, Verdict{99, ActionKind::kDrop, 0, 0}) == "no rule (verdict #99, drop)");
}

namespace {

const char* kBlockPolicy = R"(
pool main  { server 192.0.2.1; }
pool abuse { server 192.0.2.66; }
dynblock loud:     queries > 10 per src over 2s => pool abuse for 5s except 10.0.0.0/8;
dynblock failing:  servfail > 1 per src/24 over 1s => refuse for 10s;
dynblock big:      bytes > 3000 per src over 1s => drop for 10s;
dynblock shallow:  qtype TXT > 2 per src over 1s => no_recurse for 10s;
dynblock anyflood: qtype ANY > 2 per src over 1s => truncate for 10s;
rule default: true => pool main;
)";

}  // namespace

TEST_CASE("dynamic blocks under virtual time: blocked before the rules, then released", "[cases]") {
  auto policy = compile(kBlockPolicy);
  for (Evaluator ev : {Evaluator::kOptimized, Evaluator::kInterpreter}) {
    RunResult r = run(policy,
                      "x21 a.example from 192.0.2.1 => default\n"          // 21 over 2s: 10.5/s
                      "x21 a.example from 10.0.0.1 => default\n"           // excepted: never blocked
                      "at 999ms a.example from 192.0.2.1 => default\n"     // evaluated at 1s only
                      "at 1s a.example from 192.0.2.1 => loud pool abuse\n"
                      "a.example from 192.0.2.2 => default\n"
                      "at 1s a.example from 10.0.0.1 => default\n"
                      // Over at 1s and 2s (second 0 in the window): released 5s after 2s.
                      "at 6999ms a.example from 192.0.2.1 => loud\n"
                      "at 7s a.example from 192.0.2.1 => default\n",
                      ev);
    INFO(joined(r));
    CHECK(r.failed == 0);
    CHECK(r.passed == 8);
  }
}

TEST_CASE("dynamic blocks count what the case says the backend answered", "[cases]") {
  auto policy = compile(kBlockPolicy);
  RunResult r = run(policy,
                    "x2 a.example from 192.0.2.1 answer NXDOMAIN => default\n"
                    "x2 a.example from 192.0.2.1 answer SERVFAIL => default\n"
                    "at 1s a.example from 192.0.2.99 => failing refuse\n"  // the /24
                    "x2 a.example from 192.0.3.1 answer_bytes 1600 => default\n"
                    "at 2s a.example from 192.0.3.1 => big drop\n"
                    "x3 a.example TXT from 192.0.4.1 => default\n"
                    "at 3s a.example from 192.0.4.1 => shallow no_recurse\n"
                    "x3 a.example ANY from 192.0.5.1 => default\n"
                    "at 4s a.example from 192.0.5.1 => anyflood truncate\n"
                    "a.example from 192.0.5.1 tcp => default\n");
  INFO(joined(r));
  CHECK(r.failed == 0);
  // A blocked query that is not forwarded gets no answer from a backend: it
  // counts for nothing but queries. Refused queries stay refused, no more.
  r = run(policy,
          "x2 a.example from 192.0.2.1 answer SERVFAIL => default\n"
          "at 1s x5 a.example from 192.0.2.1 answer SERVFAIL => failing\n"
          "at 11s a.example from 192.0.2.1 => default\n");
  INFO(joined(r));
  CHECK(r.failed == 0);
}

TEST_CASE("a blocked verdict that was not expected names the block", "[cases]") {
  auto policy = compile(kBlockPolicy);
  RunResult r = run(policy,
                    "x21 a.example from 192.0.2.1 => default\n"
                    "at 1s a.example from 192.0.2.1 => default\n");
  REQUIRE(r.failed == 1);
  CHECK(joined(r) ==
        "t.dpt:2: expected rule 'default' (pool main), got block 'loud' (pool abuse) for a.example. A from "
        "192.0.2.1 at 1s\n");
}
