#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;
using dnspc::testing::PacketBuilder;

namespace {

ParseError parse(const std::vector<uint8_t>& p, QueryView& v, Transport t = Transport::kUdp) {
  return parse_query(p.data(), p.size(), t, v);
}

ParseError parse(const PacketBuilder& b) {
  QueryView v;
  return parse_query(b.data(), b.size(), Transport::kUdp, v);
}

std::string text(const QueryView& v) {
  char buf[256];
  return std::string(buf, qname_text(v, buf, sizeof buf));
}

}  // namespace

TEST_CASE("a plain query fills the header, question and name", "[wire][parse]") {
  PacketBuilder b;
  b.header(0xbeef, 0x0100 | header_bits::kCD, 1).question("WwW.Example.COM", qtype::kAAAA, 1);
  QueryView v;
  REQUIRE(parse_query(b.data(), b.size(), Transport::kTcp, v) == ParseError::kOk);
  CHECK(v.id == 0xbeef);
  CHECK(v.has_flag(header_bits::kRD));
  CHECK(v.has_flag(header_bits::kCD));
  CHECK_FALSE(v.has_flag(header_bits::kAD));
  CHECK(v.opcode == 0);
  CHECK(v.transport == Transport::kTcp);
  CHECK(v.qtype == qtype::kAAAA);
  CHECK(v.qclass == 1);
  CHECK(v.size == b.size());
  CHECK(v.question_end == b.size());
  CHECK(v.edns_present == 0);
  CHECK(v.trailing == 0);
  CHECK(v.label_count == 3);
  CHECK(v.qname_length == 17);
  CHECK(v.label_offsets[0] == 0);
  CHECK(v.label_offsets[1] == 4);
  CHECK(v.label_offsets[2] == 12);
  CHECK(v.label_offsets[3] == 16);  // the root byte
  CHECK(std::string(reinterpret_cast<const char*>(v.qname_lower), 17) ==
        std::string("\3www\7example\3com\0", 17));
  CHECK(text(v) == "www.example.com.");
  // The client's bytes are untouched: its case survives for the answer.
  CHECK(v.packet[13] == 'W');
}

TEST_CASE("the root name has no labels and text '.'", "[wire][parse]") {
  PacketBuilder b;
  b.header(1, 0, 1).question(".", qtype::kNS);
  QueryView v;
  REQUIRE(parse(b.bytes(), v) == ParseError::kOk);
  CHECK(v.label_count == 0);
  CHECK(v.qname_length == 1);
  CHECK(v.label_offsets[0] == 0);
  CHECK(text(v) == ".");
}

TEST_CASE("opcode, rcode and every header bit are read", "[wire][parse]") {
  uint16_t flags = (2u << header_bits::kOpcodeShift) | header_bits::kAA | header_bits::kTC |
                   header_bits::kRD | header_bits::kRA | header_bits::kAD | header_bits::kCD | 3;
  PacketBuilder b;
  b.header(7, static_cast<uint16_t>(flags), 1).question("a.", 1);
  QueryView v;
  REQUIRE(parse(b.bytes(), v) == ParseError::kOk);
  CHECK(v.opcode == 2);
  CHECK(v.rcode == 3);
  for (uint16_t bit : {header_bits::kAA, header_bits::kTC, header_bits::kRD, header_bits::kRA,
                       header_bits::kAD, header_bits::kCD}) {
    CHECK(v.has_flag(bit));
  }
  CHECK_FALSE(v.has_flag(header_bits::kZ));
}

TEST_CASE("EDNS: payload, version, DO and option codes", "[wire][parse][edns]") {
  std::vector<uint8_t> options = {0x00, 0x0a, 0x00, 0x02, 0xaa, 0xbb,  // cookie, 2 bytes
                                  0x00, 0x03, 0x00, 0x00};             // NSID, empty
  PacketBuilder b;
  b.header(1, 0x0100, 1, 0, 0, 1).question("example.com.", qtype::kA).opt(4096, 0, true, options);
  QueryView v;
  REQUIRE(parse(b.bytes(), v) == ParseError::kOk);
  CHECK(v.edns_present == 1);
  CHECK(v.edns_payload == 4096);
  CHECK(v.edns_version == 0);
  CHECK(v.edns_do == 1);
  CHECK(v.edns_option_count == 2);
  CHECK(v.edns_options[0] == 10);
  CHECK(v.edns_options[1] == 3);
  CHECK(v.edns_option_bits == ((uint64_t{1} << 10) | (uint64_t{1} << 3)));
  CHECK(v.opt_offset == v.question_end);
  CHECK(v.ecs_present == 0);
}

TEST_CASE("EDNS client subnet is decoded", "[wire][parse][edns]") {
  std::vector<uint8_t> ecs = {0x00, 0x08, 0x00, 0x07, 0x00, 0x01, 24, 0, 192, 0, 2};
  PacketBuilder b;
  b.header(1, 0, 1, 0, 0, 1).question("example.com.", qtype::kA).opt(1232, 0, false, ecs);
  QueryView v;
  REQUIRE(parse(b.bytes(), v) == ParseError::kOk);
  CHECK(v.ecs_present == 1);
  CHECK(v.ecs_family == AddressFamily::kIPv4);
  CHECK(v.ecs_source_prefix == 24);
  CHECK(v.ecs_scope_prefix == 0);
  CHECK(v.ecs_address[0] == 192);
  CHECK(v.ecs_address[2] == 2);
  CHECK(v.ecs_address[3] == 0);
}

TEST_CASE("trailing bytes after the last record are counted, not rejected", "[wire][parse]") {
  PacketBuilder b;
  b.header(1, 0, 1).question("a.", 1).raw({1, 2, 3});
  QueryView v;
  REQUIRE(parse(b.bytes(), v) == ParseError::kOk);
  CHECK(v.trailing == 3);
}

TEST_CASE("records in the answer and authority sections are skipped", "[wire][parse]") {
  // A NOTIFY-like query carrying an answer record with a compressed owner.
  PacketBuilder b;
  b.header(1, 4u << header_bits::kOpcodeShift, 1, 1, 0, 1).question("example.com.", qtype::kSOA);
  b.u16(0xc00c).u16(qtype::kA).u16(1).u32(60).u16(4).raw({192, 0, 2, 1});
  b.opt(1400);
  QueryView v;
  REQUIRE(parse(b.bytes(), v) == ParseError::kOk);
  CHECK(v.opcode == 4);
  CHECK(v.edns_present == 1);
  CHECK(v.edns_payload == 1400);
}

TEST_CASE("a reused view forgets the previous packet's EDNS facts", "[wire][parse]") {
  QueryView v;
  auto with = dnspc::testing::simple_query("a.example.", 1, true);
  auto without = dnspc::testing::simple_query("b.example.", 1, false);
  REQUIRE(parse(with, v) == ParseError::kOk);
  CHECK(v.edns_present == 1);
  REQUIRE(parse(without, v) == ParseError::kOk);
  CHECK(v.edns_present == 0);
  CHECK(v.edns_payload == 0);
  CHECK(v.opt_offset == 0);
}

TEST_CASE("every rejection reason, with a hand-made packet", "[wire][parse][reject]") {
  SECTION("under 12 bytes") {
    PacketBuilder b;
    b.raw({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0});
    CHECK(parse(b) == ParseError::kTooShort);
    CHECK(parse(PacketBuilder{}) == ParseError::kTooShort);
  }
  SECTION("QR set") {
    PacketBuilder b;
    b.header(1, header_bits::kQR, 1).question("a.", 1);
    CHECK(parse(b) == ParseError::kNotAQuery);
  }
  SECTION("QDCOUNT 0 and 2") {
    PacketBuilder zero, two;
    zero.header(1, 0, 0);
    two.header(1, 0, 2).question("a.", 1).question("b.", 1);
    CHECK(parse(zero) == ParseError::kQuestionCount);
    CHECK(parse(two) == ParseError::kQuestionCount);
  }
  SECTION("label over 63 bytes") {
    PacketBuilder b;
    b.header(1, 0, 1).u8(64);
    for (int i = 0; i < 64; ++i) b.u8('a');
    b.u8(0).u16(1).u16(1);
    CHECK(parse(b) == ParseError::kLabelTooLong);
  }
  SECTION("name over 255 bytes") {
    PacketBuilder b;
    b.header(1, 0, 1);
    for (int l = 0; l < 5; ++l) {  // 5 * 64 = 320 bytes of labels
      b.u8(63);
      for (int i = 0; i < 63; ++i) b.u8('x');
    }
    b.u8(0).u16(1).u16(1);
    CHECK(parse(b) == ParseError::kNameTooLong);
  }
  SECTION("a name of exactly 255 bytes is accepted") {
    PacketBuilder b;
    b.header(1, 0, 1);
    for (int l = 0; l < 3; ++l) {
      b.u8(63);
      for (int i = 0; i < 63; ++i) b.u8('x');
    }
    b.u8(61);
    for (int i = 0; i < 61; ++i) b.u8('y');
    b.u8(0).u16(1).u16(1);  // 3*64 + 62 + 1 = 255
    QueryView v;
    REQUIRE(parse(b.bytes(), v) == ParseError::kOk);
    CHECK(v.qname_length == 255);
  }
  SECTION("reserved label type") {
    PacketBuilder b;
    b.header(1, 0, 1).u8(0x80).u8(0).u16(1).u16(1);
    CHECK(parse(b) == ParseError::kBadLabelType);
  }
  SECTION("compression pointer in the question") {
    PacketBuilder b;
    b.header(1, 0, 1).u16(0xc00c).u16(1).u16(1);
    CHECK(parse(b) == ParseError::kCompressedQuestion);
  }
  SECTION("counts past the end") {
    PacketBuilder name_cut, no_type, rr_missing, rdata_cut;
    name_cut.header(1, 0, 1).u8(5).raw({'a', 'b'});
    no_type.header(1, 0, 1).name("a.").u16(1);
    rr_missing.header(1, 0, 1, 0, 0, 1).question("a.", 1);
    rdata_cut.header(1, 0, 1, 1).question("a.", 1).u16(0xc00c).u16(1).u16(1).u32(0).u16(4).u8(1);
    CHECK(parse(name_cut) == ParseError::kCountsPastEnd);
    CHECK(parse(no_type) == ParseError::kCountsPastEnd);
    CHECK(parse(rr_missing) == ParseError::kCountsPastEnd);
    CHECK(parse(rdata_cut) == ParseError::kCountsPastEnd);
  }
  SECTION("malformed OPT") {
    PacketBuilder two_opts, in_answer, named, option_overrun, bad_ecs;
    two_opts.header(1, 0, 1, 0, 0, 2).question("a.", 1).opt(1232).opt(1232);
    in_answer.header(1, 0, 1, 1, 0, 0).question("a.", 1).opt(1232);
    named.header(1, 0, 1, 0, 0, 1).question("a.", 1).name("x.").u16(41).u16(512).u32(0).u16(0);
    option_overrun.header(1, 0, 1, 0, 0, 1).question("a.", 1).opt(1232, 0, false, {0, 10, 0, 9, 1});
    bad_ecs.header(1, 0, 1, 0, 0, 1).question("a.", 1).opt(1232, 0, false,
                                                          {0, 8, 0, 4, 0, 1, 33, 0});
    CHECK(parse(two_opts) == ParseError::kBadOpt);
    CHECK(parse(in_answer) == ParseError::kBadOpt);
    CHECK(parse(named) == ParseError::kBadOpt);
    CHECK(parse(option_overrun) == ParseError::kBadOpt);
    CHECK(parse(bad_ecs) == ParseError::kBadOpt);
  }
}

TEST_CASE("every parse error has a distinct name", "[wire][parse]") {
  std::set<std::string> names;
  for (unsigned i = 0; i < kParseErrorCount; ++i) {
    names.insert(parse_error_name(static_cast<ParseError>(i)));
  }
  CHECK(names.size() == kParseErrorCount);
  CHECK(names.count("unknown") == 0);
}

TEST_CASE("real client packets parse as the client meant them", "[wire][parse][fixtures]") {
  using dnspc::testing::fixture_packet;
  QueryView v;

  auto a = fixture_packet("queries/dig_a.hex");
  REQUIRE(parse(a, v) == ParseError::kOk);
  CHECK(text(v) == "www.example.com.");
  CHECK(v.qtype == qtype::kA);
  CHECK(v.has_flag(header_bits::kRD));
  CHECK(v.has_flag(header_bits::kAD));  // dig sets AD by default
  CHECK(v.edns_present == 1);
  CHECK(v.edns_payload == 1232);
  CHECK(v.edns_options[0] == 10);  // a DNS cookie

  auto noedns = fixture_packet("queries/dig_noedns.hex");
  REQUIRE(parse(noedns, v) == ParseError::kOk);
  CHECK(v.edns_present == 0);
  CHECK(v.qtype == qtype::kMX);

  auto dnssec = fixture_packet("queries/dig_dnssec_cd.hex");
  REQUIRE(parse(dnssec, v) == ParseError::kOk);
  CHECK(v.edns_do == 1);
  CHECK(v.has_flag(header_bits::kCD));
  CHECK(v.qtype == qtype::kDNSKEY);

  auto ecs4 = fixture_packet("queries/dig_subnet_v4.hex");
  REQUIRE(parse(ecs4, v) == ParseError::kOk);
  CHECK(v.ecs_present == 1);
  CHECK(v.ecs_family == AddressFamily::kIPv4);
  CHECK(v.ecs_source_prefix == 24);
  CHECK(v.ecs_address[0] == 192);

  auto ecs6 = fixture_packet("queries/dig_subnet_v6.hex");
  REQUIRE(parse(ecs6, v) == ParseError::kOk);
  CHECK(v.ecs_family == AddressFamily::kIPv6);
  CHECK(v.ecs_source_prefix == 56);
  CHECK(v.ecs_address[0] == 0x20);
  CHECK(v.ecs_address[1] == 0x01);

  auto nsid = fixture_packet("queries/dig_nsid_cookie.hex");
  REQUIRE(parse(nsid, v) == ParseError::kOk);
  CHECK(v.edns_option_count == 2);

  auto norec = fixture_packet("queries/dig_norecurse_soa.hex");
  REQUIRE(parse(norec, v) == ParseError::kOk);
  CHECK_FALSE(v.has_flag(header_bits::kRD));

  auto any = fixture_packet("queries/kdig_any.hex");
  REQUIRE(parse(any, v) == ParseError::kOk);
  CHECK(v.qtype == qtype::kANY);

  auto v1 = fixture_packet("queries/dig_ednsver1.hex");
  REQUIRE(parse(v1, v) == ParseError::kOk);
  CHECK(v.edns_version == 1);

  auto big = fixture_packet("queries/dig_bufsize4096.hex");
  REQUIRE(parse(big, v) == ParseError::kOk);
  CHECK(v.edns_payload == 4096);

  auto root = fixture_packet("queries/dig_root_ns.hex");
  REQUIRE(parse(root, v) == ParseError::kOk);
  CHECK(text(v) == ".");
  CHECK(v.qtype == qtype::kNS);

  auto k = fixture_packet("queries/kdig_a.hex");
  REQUIRE(parse(k, v) == ParseError::kOk);
  CHECK(text(v) == "www.example.com.");
}
