// Known regexes against texts whose verdict is known, through the whole
// pipeline (parse, NFA, DFA, minimisation, table) and the inline matcher.
#include <catch2/catch.hpp>

#include <string>

#include "regex_test_support.h"

using namespace dnspc;
using namespace dnspc::regex;
using dnspc::regex_test::dfa_matches;
using dnspc::regex_test::Oracle;

namespace {

struct Case {
  const char* pattern;
  const char* text;
  bool expected;
};

void check_cases(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    INFO("pattern /" << c.pattern << "/ text \"" << c.text << "\"");
    auto parsed = parse_regex(c.pattern);
    REQUIRE(parsed.ok());
    auto t = compile_dfa(parsed.value());
    REQUIRE(t.ok());
    REQUIRE(dfa_table_check(t.value()) == nullptr);
    CHECK(dfa_matches(t.value(), c.text) == c.expected);
    CHECK(Oracle(parsed.value()).matches(c.text) == c.expected);  // the oracle agrees too
  }
}

}  // namespace

TEST_CASE("the policy example: a long random label under example.com", "[regex][match]") {
  check_cases({
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "abcdefghij0123456.example.com.", true},
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "abcdefghij012345.example.com.", true},
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "abcdefghij01234.example.com.", false},
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "ABCDEFGHIJ0123456.EXAMPLE.COM.", true},
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "abcdefghij0123456.example.com.evil.", false},
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "x.abcdefghij0123456.example.com.", false},
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "abcdefgh-j0123456.example.com.", false},
      {"^[a-z0-9]{16,}\\.example\\.com\\.$", "abcdefghij0123456xexample.com.", false},
  });
}

TEST_CASE("unanchored patterns match anywhere", "[regex][match]") {
  check_cases({
      {"example", "www.example.com.", true},
      {"example", "www.exampl.com.", false},
      {"com\\.", "www.example.com.", true},
      {"w", "www.example.com.", true},
      {"xn--", "xn--bcher-kva.example.", true},
      {"a.c", "xxabcxx", true},
      {"a.c", "xxacxx", false},
  });
}

TEST_CASE("anchors tie a match to the start or the end of the text", "[regex][match]") {
  check_cases({
      {"^www\\.", "www.example.com.", true},
      {"^www\\.", "awww.example.com.", false},
      {"\\.com\\.$", "www.example.com.", true},
      {"\\.com\\.$", "www.example.com.net.", false},
      {"^\\.$", ".", true},
      {"^\\.$", "a.", false},
      {"^.$", ".", true},
      {"^.$", "ab", false},
      {"^$", "", true},
      {"^$", ".", false},
      {"^", "anything.", true},
      {"$", "anything.", true},
      {"^abc|xyz$", "abcq", true},
      {"^abc|xyz$", "qabc", false},
      {"^abc|xyz$", "qxyz", true},
      {"^abc|xyz$", "xyzq", false},
      {"(^a|b)c", "ac", true},
      {"(^a|b)c", "xac", false},
      {"(^a|b)c", "xbc", true},
      {"a(b$|c)", "xab", true},
      {"a(b$|c)", "xabx", false},
      {"a(b$|c)", "xacx", true},
  });
}

TEST_CASE("matching is case-insensitive both ways", "[regex][match]") {
  check_cases({
      {"EXAMPLE", "www.example.com.", true},
      {"example", "WWW.EXAMPLE.COM.", true},
      {"^[A-Z]+$", "abc", true},
      {"^[A-Z]+$", "ABC", true},
      {"^[a-z]+$", "ABC", true},
      {"^[^a]+$", "bcd", true},
      {"^[^a]+$", "bad", false},
      {"^[^a]+$", "BAD", false},
      {"^[^A]+$", "bad", false},
      {"\\x41", "a", true},
      {"\\x61", "A", true},
      {"^\\W$", "A", false},
  });
}

TEST_CASE("classes, negated classes and escapes", "[regex][match]") {
  check_cases({
      {"^[a-c]+$", "abcab", true},
      {"^[a-c]+$", "abcd", false},
      {"^[^.]+\\.$", "com.", true},
      {"^[^.]+\\.$", "example.com.", false},
      {"^[-a]+$", "-a-", true},
      {"^[a-]+$", "-a-", true},
      {"^[a\\-z]+$", "-az", true},
      {"^[a\\-z]+$", "b", false},
      {"^[\\]]$", "]", true},
      {"^[\\[]$", "[", true},
      {"^[$^.|*]+$", "$^.|*", true},
      {"^[Z-a]+$", "z[\\]^_`a", true},  // folded: Z..a holds z, [ \ ] ^ _ ` and a
  });
}

TEST_CASE("class escapes", "[regex][match]") {
  check_cases({
      {"^\\d+$", "0123456789", true},
      {"^\\d+$", "12a", false},
      {"^\\w+$", "a_b9Z", true},
      {"^\\w+$", "a-b", false},
      {"^\\s$", " ", true},
      {"^\\s$", "\t", true},
      {"^\\s+$", " \t\n\r\f\v", true},
      {"^\\s$", "\x0e", false},
      {"^\\S$", " ", false},
      {"^\\D$", "a", true},
      {"^[\\d.]+$", "10.0.0.1", true},
      {"^\\/\\\\$", "/\\", true},
      {"^\\t$", "\t", true},
  });
}

TEST_CASE("bounded and unbounded repetition, lazy forms", "[regex][match]") {
  check_cases({
      {"^a{3}$", "aaa", true},
      {"^a{3}$", "aa", false},
      {"^a{3}$", "aaaa", false},
      {"^a{2,3}$", "aa", true},
      {"^a{2,3}$", "aaaa", false},
      {"^a{2,}$", "aaaaaaa", true},
      {"^a{2,}$", "a", false},
      {"^a{0}b$", "b", true},
      {"^(ab){2}$", "abab", true},
      {"^(ab){2}$", "ab", false},
      {"^a+?b$", "aaab", true},
      {"^a*?b$", "b", true},
      {"^a??b$", "ab", true},
      {"^a{1,2}?b$", "aab", true},
      {"^a{1,2}?b$", "aaab", false},
      {"^(a|bc)*$", "abcbca", true},
      {"^(a|bc)*$", "abcb", false},
      {"a*", "zzz", true},
      {"^(a*)*$", "aaaa", true},
      {"^(a*)*b$", "aaaa", false},
  });
}

TEST_CASE("alternation", "[regex][match]") {
  check_cases({
      {"^(www|mail)\\.example\\.(com|net)\\.$", "mail.example.net.", true},
      {"^(www|mail)\\.example\\.(com|net)\\.$", "ftp.example.net.", false},
      {"^(www|mail)\\.example\\.(com|net)\\.$", "www.example.org.", false},
      {"foo|bar|baz", "xbazx", true},
      {"foo|bar|baz", "xbaxz", false},
      {"^(?:a|b)(?:c|d)$", "bd", true},
  });
}

TEST_CASE("a '.' matches any byte, '\\.' only a dot", "[regex][match]") {
  check_cases({
      {"^a.b\\.$", "axb.", true},
      {"^a.b\\.$", "a.b.", true},
      {"^a\\.b\\.$", "axb.", false},
      {"^a\\.b\\.$", "a.b.", true},
      {"^a[.]b\\.$", "axb.", false},
      {"^.{3}$", "a\nb", true},  // names have no lines
  });
}

TEST_CASE("any byte value can be matched, including non-ASCII ones", "[regex][match]") {
  auto t = compile_regex("^\\x00\\xff\\x80[\\x90-\\x9f]$");
  REQUIRE(t.ok());
  const uint8_t yes[] = {0x00, 0xff, 0x80, 0x95};
  const uint8_t no[] = {0x00, 0xff, 0x80, 0xa0};
  CHECK(dfa_match(t.value(), yes, sizeof yes));
  CHECK_FALSE(dfa_match(t.value(), no, sizeof no));
}
