// The query path alone, without sockets: a compiled policy bound to a
// registry, client bytes in, an outcome value out (drop, an answer written to
// the caller's buffer, or a pool to forward to), counters moved.
#include <catch2/catch.hpp>

#include <vector>

#include "dnspc/runtime/query_path.h"
#include "dnspc/runtime/taps.h"
#include "dnspc/wire.h"
#include "packet_builder.h"
#include "policy_fixture.h"

using namespace dnspc;
using namespace dnspc::runtime;
using testing::PacketBuilder;

namespace {

const char* kPolicy = R"(
listen 127.0.0.1:5300;
acl 127.0.0.0/8;
pool main { server 192.0.2.1; }
pool abuse { server 192.0.2.66; }
rule bad: qname suffix "bad.test." => tag "bad" pool abuse;
rule refused: qname suffix "refuse.test." => refuse;
rule pinned: qname == "pin.test." => spoof A 192.0.2.7 ttl 60;
rule any_udp: qtype == ANY => truncate;
rule gone: qname suffix "gone.test." => rcode NXDOMAIN;
rule quiet: qname suffix "drop.test." => drop;
rule slow: qname suffix "slow.test." => delay 300ms refuse;
rule default: true => pool main;
)";

// A worker's view of the path: the policy bound, the answer buffer.
struct Fixture : testing::BoundPolicy {
  Fixture() : BoundPolicy(kPolicy) { path.bind(policy.get(), nullptr, &state, &taps, nullptr); }
  QueryOutcome run(std::vector<uint8_t> bytes, Transport t = Transport::kUdp, const char* from = "127.0.0.1") {
    packet = std::move(bytes);
    QueryInput in;
    in.packet = packet.data();
    in.size = packet.size();
    in.transport = t;
    in.source = *NetAddress::parse(from);
    in.destination = *NetAddress::parse("127.0.0.1:5300");
    return path.run(in, 1'000'000, view, answer, sizeof answer);
  }
  Taps taps = bind_taps({});
  QueryPath path{counters()};
  QueryView view;
  uint8_t answer[4096];
  std::vector<uint8_t> packet;
};

std::vector<uint8_t> query(const char* name, uint16_t qtype = 1, uint16_t id = 0x1234, uint16_t flags = 0x0100) {
  return PacketBuilder().header(id, flags, 1).question(name, qtype).bytes();
}

uint8_t rcode_of(const uint8_t* a) { return a[3] & 0x0f; }

}  // namespace

TEST_CASE("query path: a pool rule forwards, with its rule, tags and pool") {
  Fixture f;
  QueryOutcome o = f.run(query("www.bad.test."));
  CHECK(o.fate == QueryFate::kForward);
  CHECK(o.decided);
  CHECK_FALSE(o.blocked);
  CHECK(o.pool == 1);  // abuse
  CHECK(o.rule == static_cast<uint32_t>(f.registry.find_rule("bad")));
  CHECK(o.tags != 0);
  CHECK(f.hits("bad") == 1);
  CHECK(f.view.qtype == 1);
  CHECK(f.view.source.to_string(false) == "127.0.0.1");

  o = f.run(query("www.example."));
  CHECK(o.fate == QueryFate::kForward);
  CHECK(o.pool == 0);
  CHECK(o.tags == 0);
  CHECK(f.hits("default") == 1);
}

TEST_CASE("query path: local answers are written to the caller's buffer, ID and question kept") {
  Fixture f;
  QueryOutcome o = f.run(query("x.refuse.test.", 1, 0xbeef));
  REQUIRE(o.fate == QueryFate::kAnswered);
  CHECK(rcode_of(f.answer) == rcode::kRefused);
  CHECK(read_id(f.answer) == 0xbeef);
  CHECK(o.answer_size >= kHeaderSize + f.view.qname_length + 4);
  CHECK(std::string(o.log_outcome) == "answered");

  o = f.run(query("pin.test."));
  REQUIRE(o.fate == QueryFate::kAnswered);
  CHECK(rcode_of(f.answer) == rcode::kNoError);
  CHECK((f.answer[6] << 8 | f.answer[7]) == 1);  // one A record

  o = f.run(query("a.gone.test."));
  REQUIRE(o.fate == QueryFate::kAnswered);
  CHECK(rcode_of(f.answer) == rcode::kNxDomain);

  o = f.run(query("a.drop.test."));
  CHECK(o.fate == QueryFate::kDropped);
  CHECK(o.decided);
  CHECK(f.hits("quiet") == 1);
}

TEST_CASE("query path: truncate answers TC=1 over UDP and falls through over TCP") {
  Fixture f;
  QueryOutcome o = f.run(query("any.example.", 255));
  REQUIRE(o.fate == QueryFate::kAnswered);
  CHECK((f.answer[2] & 0x02) != 0);  // TC
  CHECK(std::string(o.log_outcome) == "truncated");
  o = f.run(query("any.example.", 255), Transport::kTcp);
  CHECK(o.fate == QueryFate::kForward);
  CHECK(o.rule == static_cast<uint32_t>(f.registry.find_rule("default")));
}

TEST_CASE("query path: delay holds UDP answers only") {
  Fixture f;
  QueryOutcome o = f.run(query("a.slow.test."));
  CHECK(o.fate == QueryFate::kAnswered);
  CHECK(o.delay_ms == 300);
  o = f.run(query("a.slow.test."), Transport::kTcp);
  CHECK(o.delay_ms == 0);
}

TEST_CASE("query path: the ACL refuses before any rule, and is counted") {
  Fixture f;
  QueryOutcome o = f.run(query("www.example.", 1, 7), Transport::kUdp, "192.0.2.9");
  REQUIRE(o.fate == QueryFate::kAnswered);
  CHECK_FALSE(o.decided);
  CHECK(o.action == ActionKind::kRefuse);
  CHECK(rcode_of(f.answer) == rcode::kRefused);
  CHECK(f.counters().acl_refused.get() == 1);
  CHECK(f.hits("default") == 0);
}

TEST_CASE("query path: malformed packets are counted and dropped, and a query without a question gets FORMERR") {
  Fixture f;
  QueryOutcome o = f.run({0x12, 0x34, 0x01});
  CHECK(o.fate == QueryFate::kDropped);
  CHECK_FALSE(o.decided);
  CHECK(f.counters().malformed[static_cast<unsigned>(ParseError::kTooShort)].get() == 1);

  o = f.run(PacketBuilder().header(0x4242, 0x0100, 0).bytes());
  REQUIRE(o.fate == QueryFate::kAnswered);
  CHECK(rcode_of(f.answer) == rcode::kFormErr);
  CHECK(read_id(f.answer) == 0x4242);
  CHECK(f.counters().formerr_no_question.get() == 1);

  o = f.run(query("x.example.", 1, 1, 0x8100));  // QR set: an answer, not a query
  CHECK(o.fate == QueryFate::kDropped);
  CHECK(f.counters().malformed[static_cast<unsigned>(ParseError::kNotAQuery)].get() == 1);
}

TEST_CASE("query path: an opcode nobody behind us implements gets NOTIMP instead of a forward") {
  Fixture f;
  QueryOutcome o = f.run(query("www.example.", 1, 9, 2u << 11));  // STATUS
  REQUIRE(o.fate == QueryFate::kAnswered);
  CHECK(rcode_of(f.answer) == rcode::kNotImp);
  CHECK(f.counters().notimp_opcode.get() == 1);
  o = f.run(query("www.example.", 6, 9, 4u << 11));  // NOTIFY goes through
  CHECK(o.fate == QueryFate::kForward);
}
