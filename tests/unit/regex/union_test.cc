// The union DFA must report, for every text, exactly the patterns whose own
// DFAs match it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "regex_test_support.h"

using namespace dnspc;
using namespace dnspc::regex;
using dnspc::regex_test::dfa_matches;

namespace {

std::vector<uint32_t> union_ids(const DfaTable& t, std::string_view text) {
  auto ids = dfa_accepted(t, dfa_run(t, reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  return {ids.begin(), ids.end()};
}

std::vector<Regex> parse_all(const std::vector<std::string>& patterns) {
  std::vector<Regex> out;
  for (const std::string& p : patterns) {
    auto r = parse_regex(p);
    INFO("pattern /" << p << "/");
    REQUIRE(r.ok());
    out.push_back(std::move(r.value()));
  }
  return out;
}

std::vector<const Regex*> pointers(const std::vector<Regex>& v) {
  std::vector<const Regex*> out;
  for (const Regex& r : v) out.push_back(&r);
  return out;
}

}  // namespace

TEST_CASE("a union reports which patterns match", "[regex][union]") {
  std::vector<Regex> regexes = parse_all({"\\.com\\.$", "^www\\.", "example", "^[a-z0-9]{16,}\\.", "^\\.$"});
  auto ptrs = pointers(regexes);
  std::optional<DfaTable> t = build_union(ptrs);
  REQUIRE(t);
  REQUIRE(dfa_table_check(*t) == nullptr);
  CHECK(t->pattern_count == 5);
  using V = std::vector<uint32_t>;
  CHECK(union_ids(*t, "www.example.com.") == V{0, 1, 2});
  CHECK(union_ids(*t, "WWW.EXAMPLE.NET.") == V{1, 2});
  CHECK(union_ids(*t, "abcdefghij0123456.com.") == V{0, 3});
  CHECK(union_ids(*t, ".") == V{4});
  CHECK(union_ids(*t, "mail.test.") == V{});
  CHECK(dfa_match(*t, reinterpret_cast<const uint8_t*>("x.com."), 6));
  CHECK_FALSE(dfa_match(*t, reinterpret_cast<const uint8_t*>("x.org."), 6));
}

TEST_CASE("a union agrees with the individual DFAs on random texts", "[regex][union]") {
  regex_test::PatternGenerator gen(99);
  for (int round = 0; round < 60; ++round) {
    const size_t n = 1 + static_cast<size_t>(round % 8);
    std::vector<std::string> patterns;
    for (size_t i = 0; i < n; ++i) patterns.push_back(gen.pattern());
    std::vector<Regex> regexes = parse_all(patterns);
    std::vector<DfaTable> singles;
    for (const Regex& r : regexes) {
      auto t = compile_dfa(r);
      REQUIRE(t.ok());
      singles.push_back(std::move(t.value()));
    }
    auto ptrs = pointers(regexes);
    std::optional<DfaTable> u = build_union(ptrs);
    REQUIRE(u);
    REQUIRE(dfa_table_check(*u) == nullptr);
    for (int k = 0; k < 200; ++k) {
      const std::string text = gen.text(12);
      std::vector<uint32_t> expected;
      for (uint32_t i = 0; i < singles.size(); ++i) {
        if (dfa_matches(singles[i], text)) expected.push_back(i);
      }
      INFO("text \"" << text << "\"");
      for (const std::string& p : patterns) INFO("pattern /" << p << "/");
      CHECK(union_ids(*u, text) == expected);
      CHECK(dfa_matches(*u, text) == !expected.empty());
    }
  }
}

TEST_CASE("a union of one is the single DFA", "[regex][union]") {
  std::vector<Regex> regexes = parse_all({"^(a|b)*abb$"});
  auto ptrs = pointers(regexes);
  std::optional<DfaTable> u = build_union(ptrs);
  auto single = compile_dfa(regexes[0]);
  REQUIRE(u);
  REQUIRE(single.ok());
  CHECK(u->next == single->next);
  CHECK(u->accepting == single->accepting);
  CHECK(u->byte_class == single->byte_class);
}

TEST_CASE("a union over the budget is refused, not built", "[regex][union]") {
  std::vector<Regex> regexes = parse_all({"a[ab]{10}$", "b[ab]{10}$", "abc"});
  auto ptrs = pointers(regexes);
  CHECK_FALSE(build_union(ptrs, DfaOptions{1000}));
  CHECK(build_union(ptrs, DfaOptions{20000}));
  CHECK_FALSE(build_union(std::span<const Regex* const>{}));
}

TEST_CASE("a union stops early once nothing can change", "[regex][union]") {
  // Both patterns anchored at the start: after "x" no pattern can match.
  std::vector<Regex> regexes = parse_all({"^a", "^b"});
  auto ptrs = pointers(regexes);
  std::optional<DfaTable> u = build_union(ptrs);
  REQUIRE(u);
  const uint8_t text[] = {'x', 'a', 'b'};
  CHECK(dfa_run_from(*u, u->start, text, 1) == 0);  // dead after one byte
  CHECK(dfa_run(*u, text, 3) == 0);
  CHECK(dfa_run(*u, text + 1, 1) < u->sink_count);  // "a" decided for good
}
