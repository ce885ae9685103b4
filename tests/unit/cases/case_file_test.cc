// The case-file parser (docs/test-cases.md): every option, the time and
// repeat semantics, and errors with their line numbers. No policy needed.
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/cases/case_file.h"

using namespace dnspc;
using namespace dnspc::cases;

namespace {

// Parses one text that must hold no error; returns its cases.
std::vector<Case> ok(const std::string& text) {
  ParseResult r = parse_cases("t.dpt", text);
  std::string errors;
  for (const CaseError& e : r.errors) errors += e.to_string() + "\n";
  INFO(errors);
  REQUIRE(r.ok());
  return r.file.cases;
}

Case one(const std::string& line) {
  auto cases = ok(line);
  REQUIRE(cases.size() == 1);
  return cases[0];
}

// The errors of a text, as "path:line: message".
std::vector<CaseError> errors(const std::string& text) { return parse_cases("t.dpt", text).errors; }

// The single error of a text; checks its line and that its message holds `part`.
void error_at(const std::string& text, size_t line, const std::string& part) {
  auto e = errors(text);
  INFO(text);
  REQUIRE(e.size() == 1);
  INFO(e[0].to_string());
  CHECK(e[0].line == line);
  CHECK(e[0].message.find(part) != std::string::npos);
  CHECK(e[0].to_string().rfind("t.dpt:" + std::to_string(line) + ": ", 0) == 0);
}

constexpr uint64_t kMs = 1'000'000, kS = 1'000'000'000;

}  // namespace

TEST_CASE("a minimal case takes every default", "[cases]") {
  Case c = one("www.example.com => default");
  CHECK(c.line == 1);
  CHECK(c.query.qname == "www.example.com");
  CHECK(c.query.qtype == 1);
  CHECK(c.query.qclass == 1);
  CHECK(c.query.source.to_string() == "127.0.0.1:53000");
  CHECK_FALSE(c.query.destination.has_value());
  CHECK(c.query.transport == Transport::kUdp);
  CHECK(c.query.flags == header_bits::kRD);
  CHECK(c.query.opcode == 0);
  CHECK_FALSE(c.query.id.has_value());
  CHECK_FALSE(c.query.edns);
  CHECK(c.query.options.empty());
  CHECK(c.at_ns == 0);
  CHECK(c.repeat == 1);
  CHECK(c.every_ns == 0);
  REQUIRE(c.expect.size() == 1);
  CHECK(c.expect[0].rule == "default");
  CHECK(c.expect[0].action.empty());
  CHECK(c.expect[0].argument.empty());
  CHECK(c.expect[0].count == 1);
  CHECK(c.expect[0].column == 20);
}

TEST_CASE("comments, blank lines and line numbers", "[cases]") {
  auto cases = ok("# a comment\n\n   \na.example => r1   # trailing comment\n\t\nb.example => r2\n# end");
  REQUIRE(cases.size() == 2);
  CHECK(cases[0].line == 4);
  CHECK(cases[0].text == "a.example => r1");
  CHECK(cases[1].line == 6);
  CHECK(ok("").empty());
  CHECK(ok("# only a comment").empty());
  CHECK(ok("a.example => r\r\n").size() == 1);  // CRLF line ends
}

TEST_CASE("query type and class come right after the name", "[cases]") {
  CHECK(one("x.example AAAA => r").query.qtype == 28);
  CHECK(one("x.example aaaa => r").query.qtype == 28);
  CHECK(one("x.example TYPE65 => r").query.qtype == 65);
  Case any = one("x.example ANY => r");
  CHECK(any.query.qtype == 255);
  CHECK(any.query.qclass == 1);
  Case ch = one("version.bind TXT CH => r");
  CHECK(ch.query.qtype == 16);
  CHECK(ch.query.qclass == 3);
  CHECK(one("x.example A ANY => r").query.qclass == 255);
  CHECK(one("x.example A CLASS42 => r").query.qclass == 42);
  CHECK(one(". NS => r").query.qname == ".");
  CHECK(one("*.example.com => r").query.qname == "*.example.com");
  error_at("x.example tcp AAAA => r", 1, "query type comes right after the name");
  error_at("x.example A tcp IN => r", 1, "out of place");
}

TEST_CASE("from and to take addresses with optional ports", "[cases]") {
  Case c = one("x.example from 192.0.2.1 => r");
  CHECK(c.query.source.to_string() == "192.0.2.1:53000");
  CHECK(one("x.example from 192.0.2.1:4242 => r").query.source.to_string() == "192.0.2.1:4242");
  CHECK(one("x.example from 2001:db8::1 => r").query.source.to_string() == "[2001:db8::1]:53000");
  CHECK(one("x.example from [2001:db8::1]:5353 => r").query.source.to_string() == "[2001:db8::1]:5353");
  Case to = one("x.example to 127.0.0.1 => r");
  REQUIRE(to.query.destination);
  CHECK(to.query.destination->to_string() == "127.0.0.1:53");
  CHECK(one("x.example to [::1]:5300 => r").query.destination->to_string() == "[::1]:5300");
  error_at("x.example from 300.1.1.1 => r", 1, "bad address '300.1.1.1'");
  error_at("x.example from => r", 1, "'from' needs an address");
  error_at("x.example to 192.0.2.1:99999 => r", 1, "bad address");
  error_at("x.example from 192.0.2.1 from 192.0.2.2 => r", 1, "'from' given twice");
}

TEST_CASE("transport and header bits", "[cases]") {
  CHECK(one("x.example tcp => r").query.transport == Transport::kTcp);
  CHECK(one("x.example udp => r").query.transport == Transport::kUdp);
  CHECK(one("x.example nord => r").query.flags == 0);
  CHECK(one("x.example rd => r").query.flags == header_bits::kRD);
  CHECK(one("x.example cd => r").query.flags == (header_bits::kRD | header_bits::kCD));
  CHECK(one("x.example ad => r").query.flags == (header_bits::kRD | header_bits::kAD));
  CHECK(one("x.example nord aa tc ra => r").query.flags ==
        (header_bits::kAA | header_bits::kTC | header_bits::kRA));
  error_at("x.example udp tcp => r", 1, "'tcp' conflicts with an earlier udp/tcp");
  error_at("x.example rd nord => r", 1, "'nord' conflicts with an earlier rd/nord");
  error_at("x.example cd cd => r", 1, "'cd' given twice");
}

TEST_CASE("EDNS options", "[cases]") {
  Case plain = one("x.example edns => r");
  CHECK(plain.query.edns);
  CHECK_FALSE(plain.query.dnssec_ok);
  CHECK(plain.query.payload == 1232);
  CHECK(plain.query.edns_version == 0);

  Case d = one("x.example do => r");
  CHECK(d.query.edns);
  CHECK(d.query.dnssec_ok);

  Case p = one("x.example payload 4096 => r");
  CHECK(p.query.edns);  // every EDNS fact implies EDNS
  CHECK(p.query.payload == 4096);
  CHECK(one("x.example payload 0 => r").query.payload == 0);
  CHECK(one("x.example ednsversion 1 => r").query.edns_version == 1);
  CHECK(one("x.example ednsversion 1 => r").query.edns);

  Case o = one("x.example option NSID option cookie option 65001 => r");
  REQUIRE(o.query.options.size() == 3);
  CHECK(o.query.options[0].code == 3);
  CHECK(o.query.options[1].code == 10);
  CHECK(o.query.options[2].code == 65001);
  CHECK(o.query.options[2].data.empty());
  CHECK(o.query.edns);

  Case ecs4 = one("x.example ecs 192.0.2.77/24 => r");
  REQUIRE(ecs4.query.options.size() == 1);
  CHECK(ecs4.query.options[0].code == 8);
  // family 1, source /24, scope 0, three address bytes with host bits cleared
  CHECK(ecs4.query.options[0].data == std::vector<uint8_t>{0, 1, 24, 0, 192, 0, 2});
  Case ecs_odd = one("x.example ecs 192.0.2.255/25 => r");
  CHECK(ecs_odd.query.options[0].data == std::vector<uint8_t>{0, 1, 25, 0, 192, 0, 2, 128});
  Case ecs6 = one("x.example ecs 2001:db8:1:2::/48 => r");
  CHECK(ecs6.query.options[0].data == std::vector<uint8_t>{0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1});
  CHECK(one("x.example ecs 0.0.0.0/0 => r").query.options[0].data == std::vector<uint8_t>{0, 1, 0, 0});

  Case pad = one("x.example padding 100 => r");
  REQUIRE(pad.query.options.size() == 1);
  CHECK(pad.query.options[0].code == 12);
  CHECK(pad.query.options[0].data.size() == 100);

  error_at("x.example payload 65536 => r", 1, "bad payload size '65536'");
  error_at("x.example payload big => r", 1, "bad payload size");
  error_at("x.example payload => r", 1, "'payload' needs a size");
  error_at("x.example ednsversion 256 => r", 1, "bad EDNS version");
  error_at("x.example option BOGUS => r", 1, "unknown EDNS option 'BOGUS'");
  error_at("x.example option ECS => r", 1, "write 'ecs 192.0.2.0/24'");
  error_at("x.example option 8 => r", 1, "Client Subnet needs an address");
  error_at("x.example ecs 192.0.2.0 => r", 1, "bad ECS netmask");
  error_at("x.example ecs 192.0.2.0/33 => r", 1, "bad ECS netmask");
  error_at("x.example ecs 10.0.0.0/8 ecs 10.0.0.0/8 => r", 1, "'ecs' given twice");
  error_at("x.example padding 70000 => r", 1, "bad padding");
  error_at("x.example do do => r", 1, "'do' given twice");
}

TEST_CASE("opcode and id", "[cases]") {
  CHECK(one("x.example opcode NOTIFY => r").query.opcode == 4);
  CHECK(one("x.example opcode update => r").query.opcode == 5);
  CHECK(one("x.example opcode 7 => r").query.opcode == 7);
  CHECK(one("x.example opcode OPCODE9 => r").query.opcode == 9);
  CHECK(one("x.example id 4660 => r").query.id == 4660);
  CHECK(one("x.example id 0 => r").query.id == 0);
  error_at("x.example opcode FOO => r", 1, "unknown opcode 'FOO'");
  error_at("x.example opcode 16 => r", 1, "unknown opcode");
  error_at("x.example id 65536 => r", 1, "bad query ID '65536'");
  error_at("x.example id -1 => r", 1, "bad query ID");
}

TEST_CASE("options combine in any order", "[cases]") {
  Case c = one("x.example MX tcp from 192.0.2.9:1000 do cd nord to 10.0.0.1:5353 payload 512 id 7 => r");
  CHECK(c.query.qtype == 15);
  CHECK(c.query.transport == Transport::kTcp);
  CHECK(c.query.source.to_string() == "192.0.2.9:1000");
  CHECK(c.query.destination->to_string() == "10.0.0.1:5353");
  CHECK(c.query.dnssec_ok);
  CHECK(c.query.flags == header_bits::kCD);
  CHECK(c.query.payload == 512);
  CHECK(c.query.id == 7);
}

TEST_CASE("query names", "[cases]") {
  error_at("a..example => r", 1, "not a valid DNS name");
  error_at(std::string(64, 'a') + ".example => r", 1, "not a valid DNS name");
  CHECK(one(std::string(63, 'a') + ".example => r").query.qname.size() == 71);
  error_at("=> r", 1, "missing the query name");
  error_at("x20 => r", 1, "missing the query name");
  error_at("tcp => r", 1, "'tcp' is an option; the query name comes first");
  CHECK(one("tcp. => r").query.qname == "tcp.");
  CHECK(one("x20. => r").query.qname == "x20.");
  error_at("x.example x20 => r", 1, "'x20' must come before the query name");
  error_at("x.example at 1s => r", 1, "'at' must come before the query name");
  error_at("x.example bogus => r", 1, "unknown option 'bogus'");
}

TEST_CASE("expectations: rule, action, argument, count", "[cases]") {
  Case c = one("x.example => default pool main");
  CHECK(c.expect[0].rule == "default");
  CHECK(c.expect[0].action == "pool");
  CHECK(c.expect[0].argument == "main");
  CHECK(one("x.example => gone rcode NXDOMAIN").expect[0].argument == "NXDOMAIN");
  CHECK(one("x.example => pinned spoof").expect[0].action == "spoof");
  CHECK(one("x.example => any_udp truncate").expect[0].action == "truncate");
  CHECK(one("x.example => r drop").expect[0].action == "drop");
  CHECK(one("x.example => r refuse").expect[0].action == "refuse");
  CHECK(one("x.example => r allow main").expect[0].argument == "main");
  CHECK(one("x.example => r lua silence").expect[0].argument == "silence");
  CHECK(one("x.example=>r").expect[0].rule == "r");

  error_at("x.example => r bounce", 1, "unknown action 'bounce'");
  error_at("x.example => r drop now", 1, "'drop' takes no argument");
  error_at("x.example => r rcode NOPE", 1, "unknown rcode 'NOPE'");
  error_at("x.example => r pool main extra", 1, "unexpected 'extra'");
  error_at("x.example => ", 1, "missing the expected verdict");
  error_at("x.example default", 1, "missing '=>'");
  error_at("x.example => a,", 1, "empty expectation");
  error_at("x.example => a, , b", 1, "empty expectation");
}

TEST_CASE("repeats and expectation sequences", "[cases]") {
  Case all = one("x20 x.example => default");
  CHECK(all.repeat == 20);
  REQUIRE(all.expect.size() == 1);
  CHECK(all.expect[0].count == 20);  // one verdict without a count covers every repetition

  Case seq = one("x20 x.example => default*5, shaped drop*15");
  REQUIRE(seq.expect.size() == 2);
  CHECK(seq.expect[0].rule == "default");
  CHECK(seq.expect[0].count == 5);
  CHECK(seq.expect[0].count_given);
  CHECK(seq.expect[1].rule == "shaped");
  CHECK(seq.expect[1].action == "drop");
  CHECK(seq.expect[1].count == 15);

  Case spaced = one("x3 x.example => a * 1, b pool p *1, c");  // a count-less item counts 1
  REQUIRE(spaced.expect.size() == 3);
  CHECK(spaced.expect[1].argument == "p");
  CHECK(spaced.expect[2].count == 1);

  CHECK(one("x.example => a*1").repeat == 1);
  error_at("x3 x.example => a*1, b", 1, "cover 2 queries, but the case sends 3 (x3)");
  error_at("x.example => a*2", 1, "cover 2 queries, but the case sends 1");
  error_at("x2 x.example => a, b, c", 1, "cover 3 queries");
  error_at("x.example => a*0", 1, "bad count '*0'");
  error_at("x.example => a*many", 1, "bad count");
  error_at("x0 x.example => a", 1, "bad repeat count 'x0'");
  error_at("x1000001 x.example => a", 1, "bad repeat count");
  error_at("x2 x3 x.example => a", 1, "repeat count given twice");
  CHECK(one("x1000000 x.example => a").repeat == 1'000'000);
}

TEST_CASE("durations", "[cases]") {
  CHECK(parse_duration("0s") == 0u);
  CHECK(parse_duration("1500ms") == 1500 * kMs);
  CHECK(parse_duration("2s") == 2 * kS);
  CHECK(parse_duration("1.5s") == 1500 * kMs);
  CHECK(parse_duration("0.25ms") == 250'000u);
  CHECK(parse_duration("250us") == 250'000u);
  CHECK(parse_duration("1.5us") == 1'500u);
  CHECK(parse_duration("10m") == 600 * kS);
  CHECK(parse_duration("1h") == 3600 * kS);
  CHECK(parse_duration("1.50000s") == 1500 * kMs);
  CHECK_FALSE(parse_duration("1.0001us"));  // finer than a nanosecond
  CHECK_FALSE(parse_duration("1"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("1.s"));
  CHECK_FALSE(parse_duration(".5s"));
  CHECK_FALSE(parse_duration("1d"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("1 s"));
  CHECK_FALSE(parse_duration("100000h"));  // past a year
  CHECK(format_time(0) == "0s");
  CHECK(format_time(1500 * kMs) == "1500ms");
  CHECK(format_time(2 * kS) == "2s");
  CHECK(format_time(1'500) == "1500ns");
  CHECK(format_time(250'000) == "250us");
}

TEST_CASE("virtual time: at is absolute, the clock stays where it is, never goes back", "[cases]") {
  auto cases = ok(
      "a.example => r\n"                   // 0
      "at 1s a.example => r\n"             // 1s
      "a.example => r\n"                   // stays at 1s
      "at 1s a.example => r\n"             // the same instant is fine
      "at 1500ms x3 a.example => r\n"      // 1.5s, three at once
      "at +250ms a.example => r\n"         // relative: 1.75s
      "at 2s x4 every 10ms a.example => r\n"  // 2s, 2.01s, 2.02s, 2.03s
      "a.example => r\n"                   // after the last repetition: 2.03s
      "x2 every 1s at 3s a.example => r\n"  // prefix items in any order
  );
  REQUIRE(cases.size() == 9);
  CHECK(cases[0].at_ns == 0);
  CHECK(cases[1].at_ns == 1 * kS);
  CHECK(cases[2].at_ns == 1 * kS);
  CHECK(cases[3].at_ns == 1 * kS);
  CHECK(cases[4].at_ns == 1500 * kMs);
  CHECK(cases[4].repeat == 3);
  CHECK(cases[4].time_of(2) == 1500 * kMs);
  CHECK(cases[5].at_ns == 1750 * kMs);
  CHECK(cases[6].at_ns == 2 * kS);
  CHECK(cases[6].every_ns == 10 * kMs);
  CHECK(cases[6].time_of(3) == 2030 * kMs);
  CHECK(cases[7].at_ns == 2030 * kMs);
  CHECK(cases[8].at_ns == 3 * kS);
  CHECK(cases[8].time_of(1) == 4 * kS);
}

TEST_CASE("time errors", "[cases]") {
  error_at("at 2s a.example => r\nat 1s a.example => r", 2, "time goes back: 'at 1s' is before the clock (2s)");
  error_at("at 1s x3 every 1s a.example => r\nat 2s a.example => r", 2, "before the clock (3s)");
  error_at("at 1 a.example => r", 1, "bad time '1'");
  error_at("at a.example => r", 1, "bad time 'a.example'");
  error_at("at", 1, "missing '=>'");
  error_at("at => r", 1, "'at' needs a time");
  error_at("at 1s at 2s a.example => r", 1, "'at' given twice");
  error_at("every 10ms a.example => r", 1, "needs a repeat count");
  error_at("x2 every 0s a.example => r", 1, "bad duration '0s' for 'every'");
  error_at("x2 every 1s every 1s a.example => r", 1, "'every' given twice");
  error_at("x1000000 every 1h a.example => r", 1, "past");
  CHECK(errors("at 400d a.example => r").size() == 1);
}

TEST_CASE("errors name their own line and the rest still parses", "[cases]") {
  ParseResult r = parse_cases("dir/cases.dpt",
                              "# header\n"
                              "good.example => r\n"
                              "bad..example => r\n"
                              "\n"
                              "good.example BOGUS => r\n"
                              "good.example => r\n");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].line == 3);
  CHECK(r.errors[0].to_string().rfind("dir/cases.dpt:3: ", 0) == 0);
  CHECK(r.errors[1].line == 5);
  CHECK(r.errors[1].message.find("unknown option 'BOGUS'") != std::string::npos);
  REQUIRE(r.file.cases.size() == 2);
  CHECK(r.file.cases[0].line == 2);
  CHECK(r.file.cases[1].line == 6);
}

TEST_CASE("load_cases reports unreadable files", "[cases]") {
  std::string io_error;
  CHECK_FALSE(load_cases("/nonexistent/cases.dpt", io_error));
  CHECK(io_error.find("/nonexistent/cases.dpt: cannot read") == 0);
  io_error.clear();
  CHECK_FALSE(load_cases("/", io_error));
  CHECK(io_error.find("is a directory") != std::string::npos);
}

TEST_CASE("answer and answer_bytes say what the backend answered", "[cases]") {
  ParseResult r = parse_cases("t.dpt",
                              "a.example answer SERVFAIL answer_bytes 1400 => x\n"
                              "a.example => x\n"
                              "a.example answer BOGUS => x\n"
                              "a.example answer_bytes 70000 => x\n"
                              "a.example => x no_recurse\n");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].line == 3);
  CHECK(r.errors[0].message.find("unknown rcode 'BOGUS' for 'answer'") == 0);
  CHECK(r.errors[1].line == 4);
  REQUIRE(r.file.cases.size() == 3);
  CHECK(r.file.cases[0].query.answer_rcode == 2);
  CHECK(r.file.cases[0].query.answer_bytes == 1400u);
  CHECK(r.file.cases[1].query.answer_rcode == 0);
  CHECK_FALSE(r.file.cases[1].query.answer_bytes);
  CHECK(r.file.cases[2].expect[0].action == "no_recurse");
}
