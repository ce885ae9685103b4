// Literal extraction: the documented cases, and the guarantees checked
// against the oracle on random patterns and texts.
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/regex/literals.h"
#include "regex_test_support.h"

using namespace dnspc;
using namespace dnspc::regex;

namespace {

RegexLiterals literals_of(const char* pattern) {
  auto r = parse_regex(pattern);
  INFO("pattern /" << pattern << "/");
  REQUIRE(r.ok());
  return extract_literals(r.value());
}

}  // namespace

TEST_CASE("required literal and DNS suffix of known patterns", "[regex][literals]") {
  struct Case {
    const char* pattern;
    const char* required;
    const char* dns_suffix;
  };
  for (const Case& c : {
           Case{"^[a-z0-9]{16,}\\.example\\.com\\.$", ".example.com.", "example.com."},
           Case{"\\.example\\.com\\.$", ".example.com.", "example.com."},
           Case{"^www\\.example\\.com\\.$", "www.example.com.", "example.com."},
           Case{"example\\.com\\.$", "example.com.", "com."},  // "example" is not label-aligned
           Case{"[a-z]+\\.com\\.$", ".com.", "com."},
           Case{"com\\.$", "com.", ""},
           Case{"^\\.$", ".", ""},
           Case{"example\\.com\\.", "example.com.", ""},  // not anchored at the end
           Case{"(foo|bar)\\.example\\.net\\.$", ".example.net.", "example.net."},
           Case{"(^|\\.)example\\.com\\.$", "example.com.", "com."},
           Case{"\\.com\\.$|\\.net\\.$", ".", ""},
           Case{"(a\\.com\\.$|b)", "", ""},
           Case{"(x\\.com\\.$|y\\.com\\.)", ".com.", ""},  // one branch may end anywhere
           Case{"(a\\.com\\.$|a\\.com\\.)", "a.com.", ""},
           Case{"(x\\.com\\.$|y\\.com\\.$)", ".com.", "com."},
           Case{"\\.(com|net)\\.$", ".", ""},
           Case{"EXAMPLE\\.COM\\.$", "example.com.", "com."},
           Case{"[Ee]xample", "example", ""},
           Case{"abc|abd", "ab", ""},
           Case{"x(abc|zabcz)y", "abc", ""},
           Case{"(ab){3}", "ababab", ""},
           Case{"(ab){2,}", "abab", ""},
           Case{"(ab)*", "", ""},
           Case{"(xab?){2,}", "xa", ""},
           Case{"a.bcd", "bcd", ""},
           Case{"[ab]", "", ""},
           Case{"a?", "", ""},
           Case{"\\x2e\\x63\\x6f\\x6d\\x2e$", ".com.", "com."},
           Case{"\\.example\\.com\\.$|\\.example\\.com\\.$", ".example.com.", "example.com."},
           Case{"(\\.example\\.com\\.$)+", ".example.com.", "example.com."},
       }) {
    INFO("pattern /" << c.pattern << "/");
    RegexLiterals l = literals_of(c.pattern);
    CHECK(l.required == c.required);
    CHECK(l.dns_suffix == c.dns_suffix);
  }
}

TEST_CASE("long literals are capped at a name's length", "[regex][literals]") {
  RegexLiterals l = literals_of("^(abcdefghij){100}$");
  CHECK(l.required.size() <= 255);
  CHECK(l.required.substr(0, 10) == "abcdefghij");
}

TEST_CASE("extracted literals hold on every match (random)", "[regex][literals]") {
  regex_test::PatternGenerator gen(4242);
  int with_required = 0;
  for (int i = 0; i < 1500; ++i) {
    const std::string p = gen.pattern();
    auto r = parse_regex(p);
    REQUIRE(r.ok());
    RegexLiterals l = extract_literals(r.value());
    with_required += !l.required.empty();
    regex_test::Oracle oracle(r.value());
    for (int k = 0; k < 40; ++k) {
      std::string text = gen.text(12);
      if (!oracle.matches(text)) continue;
      for (char& ch : text) ch = static_cast<char>(fold_byte(static_cast<uint8_t>(ch)));
      INFO("pattern /" << p << "/ text \"" << text << "\" required \"" << l.required
                       << "\" suffix \"" << l.dns_suffix << "\"");
      CHECK(text.find(l.required) != std::string::npos);
      if (!l.dns_suffix.empty()) CHECK(text.ends_with("." + l.dns_suffix));
    }
  }
  CHECK(with_required > 100);  // the test exercises something
}
