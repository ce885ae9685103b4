#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;
using dnspc::testing::PacketBuilder;

namespace {

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

struct Parsed {
  std::vector<uint8_t> packet;
  QueryView view;
};

Parsed parsed(std::vector<uint8_t> packet, Transport t = Transport::kUdp) {
  Parsed p{std::move(packet), {}};
  REQUIRE(parse_query(p.packet.data(), p.packet.size(), t, p.view) == ParseError::kOk);
  return p;
}

// Reads back what an answer says, as a client would.
struct AnswerFacts {
  uint16_t id = 0, flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
  bool has_opt = false;
  uint16_t opt_payload = 0;
  uint8_t opt_ext_rcode = 0, opt_version = 0;
  bool opt_do = false;
  uint16_t opt_rdlen = 0;
  std::vector<std::pair<uint16_t, std::vector<uint8_t>>> records;  // type, rdata
};

AnswerFacts read_answer(const uint8_t* a, size_t n, const QueryView& q) {
  AnswerFacts f{};
  f.id = get16(a);
  f.flags = get16(a + 2);
  f.qd = get16(a + 4);
  f.an = get16(a + 6);
  f.ns = get16(a + 8);
  f.ar = get16(a + 10);
  size_t off = q.question_end;
  REQUIRE(std::equal(a + 12, a + off, q.packet + 12));  // question echoed, case kept
  for (unsigned i = 0; i < f.an; ++i) {
    REQUIRE(get16(a + off) == 0xc00c);
    uint16_t type = get16(a + off + 2);
    CHECK(get16(a + off + 4) == q.qclass);
    uint16_t rdlen = get16(a + off + 10);
    REQUIRE(off + 12 + rdlen <= n);
    f.records.push_back({type, std::vector<uint8_t>(a + off + 12, a + off + 12 + rdlen)});
    off += 12u + rdlen;
  }
  if (f.ar == 1) {
    REQUIRE(n - off == 11);
    CHECK(a[off] == 0);
    CHECK(get16(a + off + 1) == 41);
    f.has_opt = true;
    f.opt_payload = get16(a + off + 3);
    f.opt_ext_rcode = a[off + 5];
    f.opt_version = a[off + 6];
    f.opt_do = (a[off + 7] & 0x80) != 0;
    f.opt_rdlen = get16(a + off + 9);
    off += 11;
  }
  CHECK(off == n);
  return f;
}

std::vector<uint8_t> edns_query(std::string_view name, uint16_t type, uint16_t payload,
                                uint8_t version = 0, bool dnssec_ok = false) {
  PacketBuilder b;
  b.header(0x4242, header_bits::kRD | header_bits::kCD, 1, 0, 0, 1)
      .question(name, type)
      .opt(payload, version, dnssec_ok, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
  return b.bytes();
}

}  // namespace

TEST_CASE("rcode answers keep the question, ID, RD and CD, and set QR and RA", "[wire][build]") {
  auto q = parsed(dnspc::testing::simple_query("Mixed.Case.Example.", qtype::kA));
  std::array<uint8_t, 512> out{};
  for (uint8_t rc : {rcode::kRefused, rcode::kNxDomain, rcode::kServFail, rcode::kNotImp,
                     uint8_t{9}}) {
    size_t n = build_rcode_answer(q.view, rc, out.data(), out.size());
    REQUIRE(n == q.view.question_end);  // no OPT: the client sent none
    auto f = read_answer(out.data(), n, q.view);
    CHECK(f.id == 0x1234);
    CHECK((f.flags & header_bits::kQR) != 0);
    CHECK((f.flags & header_bits::kRA) != 0);
    CHECK((f.flags & header_bits::kRD) != 0);
    CHECK((f.flags & header_bits::kAA) == 0);
    CHECK((f.flags & header_bits::kRcodeMask) == rc);
    CHECK(f.qd == 1);
    CHECK(f.an == 0);
    CHECK(f.ar == 0);
  }
}

TEST_CASE("our answers set RA only when the client set RD", "[wire][build]") {
  for (bool rd : {false, true}) {
    PacketBuilder b;
    b.header(0x7777, rd ? header_bits::kRD : 0, 1, 0, 0, 0).question("example.com.", qtype::kA);
    auto q = parsed(b.bytes());
    std::array<uint8_t, 512> out{};
    size_t n = build_rcode_answer(q.view, rcode::kRefused, out.data(), out.size());
    REQUIRE(n > 0);
    auto f = read_answer(out.data(), n, q.view);
    CHECK(((f.flags & header_bits::kRA) != 0) == rd);
    CHECK(((f.flags & header_bits::kRD) != 0) == rd);
  }
}

TEST_CASE("answers to EDNS clients carry our own OPT: 1232, DO copied, no options",
          "[wire][build][edns]") {
  for (bool dnssec_ok : {false, true}) {
    auto q = parsed(edns_query("example.com.", qtype::kA, 4096, 0, dnssec_ok));
    std::array<uint8_t, 512> out{};
    size_t n = build_rcode_answer(q.view, rcode::kRefused, out.data(), out.size());
    REQUIRE(n > 0);
    auto f = read_answer(out.data(), n, q.view);
    CHECK((f.flags & header_bits::kCD) != 0);
    REQUIRE(f.has_opt);
    CHECK(f.opt_payload == kOwnEdnsPayload);
    CHECK(f.opt_do == dnssec_ok);
    CHECK(f.opt_version == 0);
    CHECK(f.opt_ext_rcode == 0);
    CHECK(f.opt_rdlen == 0);  // the client's cookie is not echoed
  }
}

TEST_CASE("EDNS version above 0 gets BADVERS and no data", "[wire][build][edns]") {
  auto q = parsed(edns_query("example.com.", qtype::kA, 1232, 1));
  std::array<uint8_t, 512> out{};
  std::array<uint8_t, 4> a{192, 0, 2, 1};
  SpoofRecord r{qtype::kA, 60, a};
  size_t n = build_spoof_answer(q.view, std::span(&r, 1), out.data(), out.size());
  auto f = read_answer(out.data(), n, q.view);
  CHECK(f.an == 0);
  CHECK((f.flags & header_bits::kRcodeMask) == 0);
  CHECK(f.opt_ext_rcode == 1);  // 16 >> 4: BADVERS
  CHECK(f.opt_version == 0);
}

TEST_CASE("the truncated answer sets TC and strips every section", "[wire][build]") {
  auto q = parsed(edns_query("example.com.", qtype::kANY, 1232));
  std::array<uint8_t, 512> out{};
  size_t n = build_truncated_answer(q.view, out.data(), out.size());
  auto f = read_answer(out.data(), n, q.view);
  CHECK((f.flags & header_bits::kTC) != 0);
  CHECK((f.flags & header_bits::kRcodeMask) == 0);
  CHECK(f.an == 0);
  CHECK(f.ns == 0);
  CHECK(f.has_opt);
}

TEST_CASE("spoofed answers pick the records that fit the question", "[wire][build][spoof]") {
  std::array<uint8_t, 4> a{192, 0, 2, 1};
  std::array<uint8_t, 16> aaaa{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::array<SpoofRecord, 2> both{SpoofRecord{qtype::kA, 300, a}, SpoofRecord{qtype::kAAAA, 60, aaaa}};
  std::array<uint8_t, 512> out{};

  SECTION("A") {
    auto q = parsed(dnspc::testing::simple_query("canary.example.", qtype::kA));
    auto f = read_answer(out.data(), build_spoof_answer(q.view, both, out.data(), out.size()), q.view);
    REQUIRE(f.an == 1);
    CHECK(f.records[0].first == qtype::kA);
    CHECK(f.records[0].second == std::vector<uint8_t>(a.begin(), a.end()));
    CHECK(get16(out.data() + q.view.question_end + 6) == 0);  // TTL 300, high half
    CHECK(get16(out.data() + q.view.question_end + 8) == 300);
  }
  SECTION("ANY gets A and AAAA") {
    auto q = parsed(dnspc::testing::simple_query("canary.example.", qtype::kANY));
    auto f = read_answer(out.data(), build_spoof_answer(q.view, both, out.data(), out.size()), q.view);
    REQUIRE(f.an == 2);
    CHECK(f.records[1].first == qtype::kAAAA);
  }
  SECTION("another type is NODATA") {
    auto q = parsed(dnspc::testing::simple_query("canary.example.", qtype::kMX));
    auto f = read_answer(out.data(), build_spoof_answer(q.view, both, out.data(), out.size()), q.view);
    CHECK(f.an == 0);
    CHECK((f.flags & header_bits::kRcodeMask) == rcode::kNoError);
  }
  SECTION("a CNAME answers any type") {
    std::array<uint8_t, 64> target{};
    size_t tlen = encode_name("alias.example.net.", target.data(), target.size());
    REQUIRE(tlen == 19);
    SpoofRecord cname{qtype::kCNAME, 30, std::span(target.data(), tlen)};
    auto q = parsed(dnspc::testing::simple_query("canary.example.", qtype::kTXT));
    auto f = read_answer(out.data(), build_spoof_answer(q.view, std::span(&cname, 1), out.data(), out.size()), q.view);
    REQUIRE(f.an == 1);
    CHECK(f.records[0].first == qtype::kCNAME);
    CHECK(f.records[0].second.size() == tlen);
  }
}

TEST_CASE("TXT is split into 255-byte character-strings", "[wire][build][spoof]") {
  std::string text(300, 't');
  SpoofRecord txt{qtype::kTXT, 60, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())};
  auto q = parsed(edns_query("txt.example.", qtype::kTXT, 1232));
  std::array<uint8_t, 1232> out{};
  auto f = read_answer(out.data(), build_spoof_answer(q.view, std::span(&txt, 1), out.data(), out.size()), q.view);
  REQUIRE(f.an == 1);
  const auto& rdata = f.records[0].second;
  REQUIRE(rdata.size() == 302);
  CHECK(rdata[0] == 255);
  CHECK(rdata[256] == 45);

  SpoofRecord empty{qtype::kTXT, 60, {}};
  auto g = read_answer(out.data(), build_spoof_answer(q.view, std::span(&empty, 1), out.data(), out.size()), q.view);
  REQUIRE(g.an == 1);
  CHECK(g.records[0].second == std::vector<uint8_t>{0});
}

TEST_CASE("an answer past the client's limit is truncated instead", "[wire][build][spoof]") {
  std::string text(600, 'x');  // more than 512 bytes
  SpoofRecord txt{qtype::kTXT, 60, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())};
  std::array<uint8_t, 4096> out{};

  auto udp = parsed(dnspc::testing::simple_query("big.example.", qtype::kTXT));
  size_t n = build_spoof_answer(udp.view, std::span(&txt, 1), out.data(), out.size());
  CHECK(n <= 512);
  auto f = read_answer(out.data(), n, udp.view);
  CHECK((f.flags & header_bits::kTC) != 0);
  CHECK(f.an == 0);

  auto edns = parsed(edns_query("big.example.", qtype::kTXT, 4096));
  n = build_spoof_answer(edns.view, std::span(&txt, 1), out.data(), out.size());
  f = read_answer(out.data(), n, edns.view);
  CHECK((f.flags & header_bits::kTC) == 0);
  CHECK(f.an == 1);

  auto tcp = parsed(dnspc::testing::simple_query("big.example.", qtype::kTXT), Transport::kTcp);
  n = build_spoof_answer(tcp.view, std::span(&txt, 1), out.data(), out.size());
  f = read_answer(out.data(), n, tcp.view);
  CHECK(f.an == 1);
  CHECK(client_answer_limit(tcp.view) == 65535);
}

TEST_CASE("builders refuse a buffer too small for the question", "[wire][build]") {
  auto q = parsed(dnspc::testing::simple_query("example.com.", qtype::kA));
  std::array<uint8_t, 20> small{};
  CHECK(build_rcode_answer(q.view, rcode::kRefused, small.data(), small.size()) == 0);
  CHECK(build_truncated_answer(q.view, small.data(), small.size()) == 0);
}

TEST_CASE("in-place edits: ID and header bits", "[wire][build]") {
  auto p = dnspc::testing::simple_query("example.com.", qtype::kA);
  set_id(p.data(), 0xabcd);
  CHECK(read_id(p.data()) == 0xabcd);
  set_flag(p.data(), header_bits::kRD, false);
  set_flag(p.data(), header_bits::kCD, true);
  QueryView v;
  REQUIRE(parse_query(p.data(), p.size(), Transport::kUdp, v) == ParseError::kOk);
  CHECK_FALSE(v.has_flag(header_bits::kRD));
  CHECK(v.has_flag(header_bits::kCD));
  CHECK(v.id == 0xabcd);
}

TEST_CASE("answers match their query by ID, name in any case, type and class", "[wire][match]") {
  auto q = parsed(dnspc::testing::simple_query("www.example.com.", qtype::kA));
  PacketBuilder good;
  good.header(77, header_bits::kQR | header_bits::kRD, 1, 1).question("WWW.EXAMPLE.com.", qtype::kA);
  good.u16(0xc00c).u16(1).u16(1).u32(60).u16(4).raw({192, 0, 2, 1});
  CHECK(answer_matches(good.data(), good.size(), 77, q.view));
  CHECK_FALSE(answer_matches(good.data(), good.size(), 78, q.view));

  PacketBuilder not_response, other_name, other_type, other_class, no_question, cut;
  not_response.header(77, 0, 1).question("www.example.com.", qtype::kA);
  other_name.header(77, header_bits::kQR, 1).question("www.example.org.", qtype::kA);
  other_type.header(77, header_bits::kQR, 1).question("www.example.com.", qtype::kAAAA);
  other_class.header(77, header_bits::kQR, 1).question("www.example.com.", qtype::kA, 3);
  no_question.header(77, header_bits::kQR, 0);
  cut.header(77, header_bits::kQR, 1).name("www.example.com.");
  for (auto* b : {&not_response, &other_name, &other_type, &other_class, &no_question, &cut}) {
    CHECK_FALSE(answer_matches(b->data(), b->size(), 77, q.view));
  }
  // Without a question, only an error that carries no data matches (NSD
  // answers NOTIFY and UPDATE this way).
  for (uint16_t rc : {rcode::kRefused, rcode::kNotImp, rcode::kFormErr, rcode::kServFail}) {
    PacketBuilder error;
    error.header(77, header_bits::kQR | rc, 0);
    CHECK(answer_matches(error.data(), error.size(), 77, q.view));
    CHECK_FALSE(answer_matches(error.data(), error.size(), 78, q.view));
  }
  PacketBuilder nxdomain;
  nxdomain.header(77, header_bits::kQR | rcode::kNxDomain, 0);
  CHECK_FALSE(answer_matches(nxdomain.data(), nxdomain.size(), 77, q.view));
}

TEST_CASE("encode_name takes names with or without the trailing dot", "[wire]") {
  std::array<uint8_t, 256> out{};
  CHECK(encode_name("example.com", out.data(), out.size()) == 13);
  CHECK(encode_name("example.com.", out.data(), out.size()) == 13);
  CHECK(encode_name(".", out.data(), out.size()) == 1);
  CHECK(encode_name("a..b", out.data(), out.size()) == 0);
  CHECK(encode_name(std::string(64, 'a'), out.data(), out.size()) == 0);
  CHECK(encode_name("example.com", out.data(), 5) == 0);
}
