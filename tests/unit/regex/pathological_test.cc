// Patterns that blow up backtracking engines or subset construction: each
// either compiles within the budget (and then matches correctly) or fails
// with the budget message, and quickly either way.
#include <catch2/catch.hpp>

#include <string>

#include "regex_test_support.h"

using namespace dnspc;
using namespace dnspc::regex;
using dnspc::regex_test::dfa_matches;
using dnspc::regex_test::Oracle;

namespace {

// No timed assertions (the machine is shared): a construction that is not
// bounded would hang past CTest's timeout; the bound itself shows in the
// error it reports.

void compiles_and_agrees(const char* pattern, DfaOptions options = {}) {
  INFO("pattern /" << pattern << "/");
  auto parsed = parse_regex(pattern);
  REQUIRE(parsed.ok());
  auto t = compile_dfa(parsed.value(), options);
  REQUIRE(t.ok());
  REQUIRE(dfa_table_check(t.value()) == nullptr);
  regex_test::PatternGenerator gen(7);
  Oracle oracle(parsed.value());
  for (int i = 0; i < 300; ++i) {
    std::string text;
    const size_t len = std::uniform_int_distribution<size_t>(0, 40)(gen.rng());
    for (size_t j = 0; j < len; ++j) text += "abc"[std::uniform_int_distribution<int>(0, 2)(gen.rng())];
    INFO("text \"" << text << "\"");
    CHECK(dfa_matches(t.value(), text) == oracle.matches(text));
  }
}

void fails_cleanly(const char* pattern, DfaOptions options = {}) {
  INFO("pattern /" << pattern << "/");
  auto t = compile_regex(pattern, options);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().offset == 0);
  CHECK(t.error().length == std::string(pattern).size());
  CHECK(t.error().message.find("simplify it or raise option regex_state_budget") != std::string::npos);
}

}  // namespace

TEST_CASE("catastrophic-backtracking patterns are small DFAs", "[regex][pathological]") {
  compiles_and_agrees("(a|aa)*b");
  compiles_and_agrees("(a*)*b");
  compiles_and_agrees("^(a+)+$");
  compiles_and_agrees("(a|a)*c");
  compiles_and_agrees("((a|b)*c){10}");
  compiles_and_agrees("^((a|b)*c){10}$");
  compiles_and_agrees("(a*b*)*c(a|b){0,5}a");
  compiles_and_agrees("((a*)*(b*)*)*c");
  auto t = compile_regex("(a|aa)*b");
  REQUIRE(t.ok());
  CHECK(t->state_count <= 4);
}

TEST_CASE("an exponential DFA fails with the budget message", "[regex][pathological]") {
  auto t = compile_regex(".*a.{20}$");
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message ==
        "regex needs more than 10000 DFA states; simplify it or raise option regex_state_budget");
  fails_cleanly(".*a.{20}$");
  fails_cleanly("a[ab]{30}$");
  fails_cleanly("(a|b)*a(a|b){40}");
  fails_cleanly(".*a.{20}$", DfaOptions{65535});
  fails_cleanly("a.{12}$", DfaOptions{100});
}

TEST_CASE("the same pattern fits or not depending on the budget", "[regex][pathological]") {
  // "an 'a' 10 bytes before the end" needs 2^11 states.
  compiles_and_agrees("a[ab]{10}$");
  fails_cleanly("a[ab]{10}$", DfaOptions{500});
  // The budget is clamped into what the table format can hold.
  CHECK(compile_regex("abc", DfaOptions{0}).ok() == false);
  CHECK(compile_regex("^a$", DfaOptions{100000}).ok());
}

TEST_CASE("large repetitions compile in bounded time", "[regex][pathological]") {
  for (const char* p : {"[a-z]{1000}", "^[a-z]{1,1000}$", "(.*){1000}", "(a*){1000}b", "(a?){1000}a{1000}",
                        "^(a|b|c|d|e|f|g|h)*x{500}$", "(x+x+)+y", "(\\w+\\.)+example\\.com\\.$"}) {
    INFO("pattern /" << p << "/");
    auto t = compile_regex(p);
    if (t.ok()) {
      CHECK(dfa_table_check(t.value()) == nullptr);
    } else {
      CHECK(t.error().message.find("regex_state_budget") != std::string::npos);
    }
  }
}

TEST_CASE("work is bounded even when states are few but huge", "[regex][pathological]") {
  // Each DFA state here holds thousands of NFA states; the state budget alone
  // would let construction run for minutes.
  for (uint32_t budget : {10000u, 65535u}) {
    auto t = compile_regex("((a?){1000}){9}((a){1000}){9}", DfaOptions{budget});
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().message.find("needs more DFA construction work") != std::string::npos);
    CHECK(t.error().message.find("raise option regex_state_budget") != std::string::npos);
  }
  auto t = compile_regex("(.{0,900}a){20}", DfaOptions{65535});
  REQUIRE_FALSE(t.ok());
}
