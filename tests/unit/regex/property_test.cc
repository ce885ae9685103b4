// The DFA against the oracle (a memoised matcher straight over the syntax
// tree) on random patterns from a grammar and random texts over a small
// alphabet, where matches and near-misses are both common.
#include <catch2/catch.hpp>

#include <string>

#include "regex_test_support.h"

using namespace dnspc;
using namespace dnspc::regex;
using dnspc::regex_test::dfa_matches;
using dnspc::regex_test::Oracle;

TEST_CASE("DFA agrees with the oracle on random patterns (grammar)", "[regex][property]") {
  regex_test::PatternGenerator gen(12345);
  int matched = 0, total = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string p = gen.pattern();
    INFO("pattern /" << p << "/");
    auto r = parse_regex(p);
    REQUIRE(r.ok());
    auto t = compile_dfa(r.value());
    REQUIRE(t.ok());
    Oracle oracle(r.value());
    for (int k = 0; k < 60; ++k) {
      const std::string text = gen.text(10);
      const bool expected = oracle.matches(text);
      matched += expected;
      ++total;
      if (dfa_matches(t.value(), text) != expected) {
        FAIL_CHECK("text \"" << text << "\": oracle says " << expected);
      }
    }
  }
  // Both outcomes are common, so the comparison means something.
  CHECK(matched > total / 10);
  CHECK(matched < total * 9 / 10);
}

TEST_CASE("DFA agrees with the oracle on random syntax the parser accepts", "[regex][property]") {
  // Random strings of metacharacters: odd corners of the grammar (nested
  // quantifiers, anchors inside groups, ranges) that a grammar would miss.
  static constexpr std::string_view kChars = "ab.^$|()[]{}*+?\\-,0123^:";
  regex_test::PatternGenerator gen(777);
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string p(std::uniform_int_distribution<size_t>(1, 10)(gen.rng()), ' ');
    for (char& c : p) c = kChars[std::uniform_int_distribution<size_t>(0, kChars.size() - 1)(gen.rng())];
    auto r = parse_regex(p);
    if (!r.ok()) {
      CHECK(r.error().offset + r.error().length <= p.size());
      CHECK_FALSE(r.error().message.empty());
      continue;
    }
    ++accepted;
    INFO("pattern /" << p << "/");
    auto t = compile_dfa(r.value());
    REQUIRE(t.ok());
    Oracle oracle(r.value());
    for (int k = 0; k < 20; ++k) {
      const std::string text = gen.text(8);
      if (dfa_matches(t.value(), text) != oracle.matches(text)) {
        FAIL_CHECK("text \"" << text << "\"");
      }
    }
  }
  CHECK(accepted > 1000);
}

TEST_CASE("matching upper-case text equals matching its lower case", "[regex][property]") {
  regex_test::PatternGenerator gen(31337);
  for (int i = 0; i < 300; ++i) {
    const std::string p = gen.pattern();
    auto t = compile_regex(p);
    REQUIRE(t.ok());
    for (int k = 0; k < 20; ++k) {
      std::string text = gen.text(10), upper = text;
      for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
      INFO("pattern /" << p << "/ text \"" << text << "\"");
      CHECK(dfa_matches(t.value(), text) == dfa_matches(t.value(), upper));
    }
  }
}
