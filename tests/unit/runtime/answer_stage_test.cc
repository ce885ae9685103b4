// The answer stage alone, without sockets: a backend answer for a recorded
// query comes back with the client's ID, name case and bits, through the
// response rules and the client's size limit, counted.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

#include "dnspc/runtime/answer_stage.h"
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
pool p { server 192.0.2.1; }
rule flaky: qname suffix "flaky.test." => tag "flaky" pool p;
rule default: true => pool p;
response rule hide: rcode == SERVFAIL and tagged "flaky" => rcode NXDOMAIN;
response rule slow: latency > 500ms => drop;
)";

constexpr uint64_t kSent = 1'000'000'000;

struct Fixture : testing::BoundPolicy {
  Fixture() : BoundPolicy(kPolicy) {
    stage.bind(policy.get(), nullptr, &state, &taps, nullptr);
    dest = *NetAddress::parse("127.0.0.1:5300");
  }

  // A forwarded query's record, as the worker makes it.
  InFlightQuery record(const std::string& name, Transport t = Transport::kUdp, std::vector<uint8_t> opt = {}) {
    PacketBuilder b;
    b.header(0x1111, 0x0100 | header_bits::kCD, 1, 0, 0, opt.empty() ? 0 : 1).question(name, 1);
    if (!opt.empty()) b.opt(1232);
    client_packet = b.bytes();
    QueryView v;
    REQUIRE(parse_query(client_packet.data(), client_packet.size(), t, v) == ParseError::kOk);
    InFlightQuery q{};
    q.capture(v, client_packet.data() + kHeaderSize);
    q.server = 0;
    q.sent_ns = kSent;
    q.backend_id = 0x2222;
    q.rule = 0;
    q.tcp = nullptr;
    q.listener = 0;
    sockaddr_storage ss{};
    NetAddress client = *NetAddress::parse("127.0.0.9:40000");
    q.client_len = client.to_sockaddr(ss);
    std::memcpy(&q.client, &ss, sizeof q.client);
    return q;
  }

  // The backend's answer: its ID, the name in its own case, RD and CD cleared.
  std::vector<uint8_t> backend_answer(const std::string& name, uint8_t rc, size_t pad = 0) {
    auto a = PacketBuilder().header(0x2222, static_cast<uint16_t>(0x8000 | rc), 1).question(name, 1).bytes();
    a.resize(a.size() + pad, 0);
    return a;
  }

  AnswerResult deliver(const InFlightQuery& q, std::vector<uint8_t>& answer, uint64_t after_ns) {
    return stage.deliver(q, answer.data(), answer.size(), kSent + after_ns, dest, counters().servers[0], ewma, buffer,
                         sizeof buffer);
  }

  uint64_t tag_bits(const char* tag) {
    auto it = std::find(image->tags.begin(), image->tags.end(), tag);
    REQUIRE(it != image->tags.end());
    return 1ull << (it - image->tags.begin());
  }

  Taps taps = bind_taps({false, true, false});
  AnswerStage stage{counters()};
  NetAddress dest;
  uint32_t ewma = 0;
  uint8_t buffer[4096];
  std::vector<uint8_t> client_packet;
};

uint8_t rcode_of(const uint8_t* a) { return a[3] & 0x0f; }

uint64_t recorded(const LatencyHistogram& h) {
  uint64_t n = 0;
  for (unsigned b = 0; b < LatencyBuckets::kCount; ++b) n += h.count(b);
  return n;
}

}  // namespace

TEST_CASE("answer stage: the client's ID, name case and RD/CD come back, latency and counters move") {
  Fixture f;
  InFlightQuery q = f.record("WwW.Example.");
  auto answer = f.backend_answer("www.example.", rcode::kNoError);
  AnswerResult r = f.deliver(q, answer, 3'000'000);
  REQUIRE(r.data == answer.data());  // sent from where it arrived
  CHECK_FALSE(r.used_buffer);
  CHECK(r.size == answer.size());
  CHECK(read_id(r.data) == 0x1111);
  CHECK(std::memcmp(r.data + kHeaderSize, q.qname, q.qname_length) == 0);
  CHECK((r.data[2] & 0x01) != 0);  // RD
  CHECK((r.data[3] & 0x10) != 0);  // CD
  CHECK(r.latency_us == 3000);
  CHECK(f.ewma == 3000);
  CHECK(f.counters().servers[0].answers.get() == 1);
  CHECK(f.counters().backend_answers.get() == 1);
  CHECK(recorded(f.counters().latency_udp) == 1);
}

TEST_CASE("answer stage: response rules replace or drop, seeing the query's tags") {
  Fixture f;
  InFlightQuery flaky = f.record("a.flaky.test.");
  flaky.tags = f.tag_bits("flaky");
  auto answer = f.backend_answer("a.flaky.test.", rcode::kServFail);
  AnswerResult r = f.deliver(flaky, answer, 1000);
  REQUIRE(r.data == f.buffer);
  CHECK(r.used_buffer);
  CHECK(rcode_of(r.data) == rcode::kNxDomain);
  CHECK(read_id(r.data) == 0x1111);
  CHECK(f.hits("hide") == 1);
  CHECK(f.counters().response_actions[static_cast<unsigned>(ActionKind::kRcode)].get() == 1);

  InFlightQuery plain = f.record("a.other.test.");
  answer = f.backend_answer("a.other.test.", rcode::kServFail);
  r = f.deliver(plain, answer, 1000);
  CHECK(r.data == answer.data());
  CHECK(rcode_of(r.data) == rcode::kServFail);

  answer = f.backend_answer("a.other.test.", rcode::kNoError);
  r = f.deliver(plain, answer, 600'000'000);  // 600 ms
  CHECK(r.data == nullptr);
  CHECK(f.hits("slow") == 1);
}

TEST_CASE("answer stage: an answer past the client's UDP size gets TC=1, TCP and EDNS sizes pass") {
  Fixture f;
  InFlightQuery udp = f.record("big.example.");
  auto answer = f.backend_answer("big.example.", rcode::kNoError, 700);
  AnswerResult r = f.deliver(udp, answer, 1000);
  REQUIRE(r.data == f.buffer);
  CHECK((r.data[2] & 0x02) != 0);  // TC
  CHECK(r.size <= 512);
  CHECK(f.counters().truncated_for_client.get() == 1);

  InFlightQuery tcp = f.record("big.example.", Transport::kTcp);
  answer = f.backend_answer("big.example.", rcode::kNoError, 700);
  r = f.deliver(tcp, answer, 1000);
  CHECK(r.data == answer.data());
  CHECK(recorded(f.counters().latency_tcp) == 1);

  InFlightQuery edns = f.record("big.example.", Transport::kUdp, {1});
  REQUIRE(edns.edns_present);
  answer = f.backend_answer("big.example.", rcode::kNoError, 700);
  r = f.deliver(edns, answer, 1000);
  CHECK(r.data == answer.data());
  CHECK(f.counters().truncated_for_client.get() == 1);
}

TEST_CASE("answer stage: SERVFAIL to the client's own question") {
  Fixture f;
  InFlightQuery q = f.record("Slow.Example.");
  uint8_t out[512];
  size_t n = f.stage.servfail(q, f.dest, out, sizeof out);
  REQUIRE(n > kHeaderSize);
  CHECK(rcode_of(out) == rcode::kServFail);
  CHECK(read_id(out) == 0x1111);
  CHECK(std::memcmp(out + kHeaderSize, q.qname, q.qname_length) == 0);
}
