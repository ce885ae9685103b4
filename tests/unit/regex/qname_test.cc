// The matcher over a QueryView's wire-form name must see exactly the text
// form qname_text() renders, without building it.
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/wire.h"
#include "packet_builder.h"
#include "regex_test_support.h"

using namespace dnspc;
using namespace dnspc::regex;
using dnspc::testing::PacketBuilder;

namespace {

QueryView view_of(const PacketBuilder& b) {
  QueryView v;
  REQUIRE(parse_query(b.data(), b.size(), Transport::kUdp, v) == ParseError::kOk);
  return v;
}

QueryView query(std::string_view name) {
  static PacketBuilder b;  // the view points into the packet
  b = PacketBuilder{};
  b.header(1, 0x0100, 1).question(name, qtype::kA);
  return view_of(b);
}

std::string text_of(const QueryView& v) {
  char buf[256];
  return std::string(buf, qname_text(v, buf, sizeof buf));
}

}  // namespace

TEST_CASE("the qname matcher sees the text form", "[regex][qname]") {
  auto t = compile_regex("^[a-z0-9]{16,}\\.example\\.com\\.$");
  REQUIRE(t.ok());
  CHECK(dfa_match_qname(t.value(), query("abcdefghij0123456.example.com")));
  CHECK(dfa_match_qname(t.value(), query("ABCDEFGHIJ0123456.Example.COM")));
  CHECK_FALSE(dfa_match_qname(t.value(), query("short.example.com")));
  CHECK_FALSE(dfa_match_qname(t.value(), query("abcdefghij0123456.example.com.evil")));

  auto root = compile_regex("^\\.$");
  REQUIRE(root.ok());
  CHECK(dfa_match_qname(root.value(), query(".")));
  CHECK_FALSE(dfa_match_qname(root.value(), query("a")));
  CHECK(dfa_match_qname(root.value(), QueryView{}));  // an empty view reads as the root
}

TEST_CASE("a label holding a '.' byte reads as two labels", "[regex][qname]") {
  PacketBuilder b;
  b.header(1, 0x0100, 1).u8(5).raw({'a', '.', 'b', 'c', 'd'}).u8(3).raw({'c', 'o', 'm'}).u8(0).u16(1).u16(1);
  QueryView v = view_of(b);
  REQUIRE(text_of(v) == "a.bcd.com.");
  auto t = compile_regex("^a\\.bcd\\.com\\.$");
  REQUIRE(t.ok());
  CHECK(dfa_match_qname(t.value(), v));
}

TEST_CASE("qname and text matchers agree on random names and patterns", "[regex][qname]") {
  regex_test::PatternGenerator gen(5);
  for (int i = 0; i < 300; ++i) {
    const std::string p = gen.pattern();
    auto t = compile_regex(p);
    REQUIRE(t.ok());
    for (int k = 0; k < 20; ++k) {
      // Labels from the generator's alphabet minus '.', which would split them.
      std::string name;
      const int labels = std::uniform_int_distribution<int>(0, 3)(gen.rng());
      for (int l = 0; l < labels; ++l) {
        std::string label = gen.text(5);
        std::erase(label, '.');
        if (label.empty()) label = "x";
        name += label + ".";
      }
      QueryView v = query(name.empty() ? "." : name);
      const std::string text = text_of(v);
      INFO("pattern /" << p << "/ name \"" << name << "\" text \"" << text << "\"");
      CHECK(dfa_match_qname(t.value(), v) == regex_test::dfa_matches(t.value(), text));
      CHECK(dfa_run_qname(t.value(), v) ==
            dfa_run(t.value(), reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    }
  }
}

TEST_CASE("the longest names run to the end", "[regex][qname]") {
  std::string name;
  for (int i = 0; i < 3; ++i) name += std::string(63, 'a' + i) + ".";
  name += std::string(61, 'd') + ".";  // 255 bytes on the wire
  QueryView v = query(name);
  REQUIRE(v.qname_length == 255);
  auto t = compile_regex("d\\.$");
  REQUIRE(t.ok());
  CHECK(dfa_match_qname(t.value(), v));
  auto start = compile_regex("^a{63}\\.b");
  REQUIRE(start.ok());
  CHECK(dfa_match_qname(start.value(), v));
}

TEST_CASE("dfa_table_check catches broken tables", "[regex][qname]") {
  auto t = compile_regex("^(a|b)*abb$");
  REQUIRE(t.ok());
  CHECK(dfa_table_check(t.value()) == nullptr);
  DfaTable broken = t.value();
  broken.next[3] = 200;
  CHECK(dfa_table_check(broken) != nullptr);
  broken = t.value();
  broken.start = broken.state_count;
  CHECK(dfa_table_check(broken) != nullptr);
  broken = t.value();
  broken.accepting[0] = 1;
  CHECK(dfa_table_check(broken) != nullptr);
  broken = t.value();
  broken.byte_class['x'] = 7;
  CHECK(dfa_table_check(broken) != nullptr);
}
