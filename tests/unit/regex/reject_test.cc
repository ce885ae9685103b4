// Every refusal: the exact byte range it points at, and a message naming the
// feature (and, for the common ones, the exact wording users will see).
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/regex/parse.h"

using namespace dnspc::regex;

namespace {

struct Rejection {
  std::string pattern;
  uint32_t offset;
  uint32_t length;
  const char* message_part;
};

void check_rejections(std::initializer_list<Rejection> cases) {
  for (const Rejection& r : cases) {
    INFO("pattern /" << r.pattern << "/");
    auto result = parse_regex(r.pattern);
    REQUIRE_FALSE(result.ok());
    INFO("message: " << result.error().message);
    CHECK(result.error().offset == r.offset);
    CHECK(result.error().length == r.length);
    CHECK(result.error().message.find(r.message_part) != std::string::npos);
    CHECK(result.error().offset + result.error().length <= r.pattern.size());
  }
}

}  // namespace

TEST_CASE("an empty pattern is refused", "[regex][reject]") {
  check_rejections({{"", 0, 0, "empty pattern"}});
}

TEST_CASE("backreferences are refused", "[regex][reject]") {
  check_rejections({
      {"(a)\\1", 3, 2, "backreference \\1 is not supported"},
      {"(a)\\12", 3, 3, "backreference \\12"},
      {"a\\9", 1, 2, "backreference"},
      {"a\\k<n>", 1, 5, "named backreference"},
      {"a\\k{n}b", 1, 5, "named backreference"},
      {"\\g1", 0, 3, "\\g backreferences"},
      {"\\g{-1}", 0, 6, "\\g backreferences"},
      {"(?P=n)", 0, 6, "backreferences, recursion"},
      {"(?1)", 0, 4, "recursion"},
      {"(?R)", 0, 4, "recursion"},
      {"(?&n)", 0, 5, "subroutine"},
      {"(?-1)", 0, 5, "recursion"},
  });
}

TEST_CASE("lookaround and atomic groups are refused", "[regex][reject]") {
  check_rejections({
      {"a(?=b)", 1, 3, "lookahead"},
      {"a(?!b)", 1, 3, "lookahead"},
      {"(?<=a)b", 0, 4, "lookbehind"},
      {"(?<!a)b", 0, 4, "lookbehind"},
      {"(?>ab)", 0, 3, "atomic groups"},
      {"(?(1)a)", 0, 3, "conditionals"},
      {"(?|a)", 0, 3, "branch reset"},
      {"(?#note)a", 0, 8, "comments"},
      {"(?", 0, 2, "not supported"},
  });
}

TEST_CASE("possessive quantifiers are refused", "[regex][reject]") {
  check_rejections({
      {"a*+", 1, 2, "possessive quantifiers (*+)"},
      {"a++", 1, 2, "possessive"},
      {"a?+", 1, 2, "possessive"},
      {"xa{2}+", 2, 4, "possessive"},
      {"a{2,}+", 1, 5, "possessive"},
  });
}

TEST_CASE("named groups and inline flags are refused", "[regex][reject]") {
  check_rejections({
      {"(?<name>a)", 0, 8, "named groups"},
      {"x(?P<name>a)", 1, 9, "named groups"},
      {"(?'n'a)", 0, 5, "named groups"},
      {"(?i)abc", 0, 4, "matching is already case-insensitive; remove (?i)"},
      {"ab(?i)c", 2, 4, "remove (?i)"},
      {"(?i:abc)", 0, 4, "already case-insensitive; write (?:...)"},
      {"(?-i)a", 0, 5, "already case-insensitive"},
      {"(?s)a", 0, 4, "inline flags like (?s) are not supported"},
      {"(?mx:a)", 0, 5, "inline flags"},
  });
  auto r = parse_regex("(?i)abc");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "matching is already case-insensitive; remove (?i)");
}

TEST_CASE("foreign escapes are refused by family", "[regex][reject]") {
  check_rejections({
      {"a\\b", 1, 2, "word boundaries (\\b, \\B)"},
      {"\\Ba", 0, 2, "word boundaries"},
      {"[\\b]", 1, 2, "\\b inside a class"},
      {"\\p{L}", 0, 5, "unicode classes"},
      {"\\pL", 0, 3, "unicode classes"},
      {"x\\P{Lu}", 1, 6, "unicode classes"},
      {"\\Aabc", 0, 2, "use ^"},
      {"abc\\z", 3, 2, "and $ for its end"},
      {"\\Q.\\E", 0, 2, "quoting"},
      {"\\u0041", 0, 2, "\\u escapes"},
      {"\\cA", 0, 3, "control escapes"},
      {"\\0", 0, 2, "octal"},
      {"\\q", 0, 2, "unknown escape \\q"},
      {"\\x4", 0, 3, "two hex digits"},
      {"\\xg", 0, 2, "two hex digits"},
      {"\\x{41}", 0, 6, "\\x{...} is not supported"},
      {"a\\", 1, 1, "lone backslash"},
      {"a\xc3\xa9", 1, 2, "non-ASCII"},
      {"[\xc3\xa9]", 1, 2, "non-ASCII"},
      {"[[:alpha:]]", 1, 9, "POSIX classes"},
  });
}

TEST_CASE("repetition bounds are checked", "[regex][reject]") {
  check_rejections({
      {"a{1001}", 1, 6, "repetition bound 1001 is over the maximum of 1000"},
      {"a{2,1001}", 1, 8, "over the maximum"},
      {"a{99999999999}", 1, 13, "over the maximum"},
      {"a{5,3}", 1, 5, "reversed: write {3,5}"},
      {"a{,3}", 1, 4, "lower bound"},
      {"a{x}", 1, 3, "malformed repetition"},
      {"a{2", 1, 1, "malformed repetition"},
      {"a{2,x}", 1, 5, "malformed repetition"},
      {"(a{1000}){1000}", 0, 15, "regex too large"},
      {"x(a{100}b{100}){200}", 1, 19, "regex too large"},
  });
}

TEST_CASE("unbalanced parentheses and brackets are refused", "[regex][reject]") {
  check_rejections({
      {"(ab", 0, 1, "unclosed group"},
      {"a(b(c)", 1, 1, "unclosed group"},
      {"ab)", 2, 1, "unmatched ')'"},
      {")", 0, 1, "unmatched ')'"},
      {"[ab", 0, 1, "unclosed class"},
      {"[a-", 0, 1, "unclosed class"},
      {"a]", 1, 1, "unmatched ']'"},
      {"a}", 1, 1, "unmatched '}'"},
      {"()", 0, 2, "empty group"},
      {"a(?:)", 1, 4, "empty group"},
      {"[]", 0, 2, "empty bracket class"},
      {"[^]", 0, 3, "empty bracket class"},
  });
  std::string deep(101, '(');
  deep += "a" + std::string(101, ')');
  check_rejections({{deep, 100, 1, "nested deeper than 100"}});
}

TEST_CASE("a quantifier needs something to repeat", "[regex][reject]") {
  check_rejections({
      {"*a", 0, 1, "nothing to repeat: '*'"},
      {"a|*b", 2, 1, "nothing to repeat"},
      {"(*a)", 1, 1, "nothing to repeat"},
      {"a(+)", 2, 1, "nothing to repeat"},
      {"?", 0, 1, "nothing to repeat"},
      {"{2}", 0, 1, "nothing to repeat"},
      {"a**", 2, 1, "cannot follow another"},
      {"a{2}{3}", 4, 1, "cannot follow another"},
      {"a*??", 3, 1, "cannot follow another"},
      {"^*", 1, 1, "anchor cannot be repeated"},
      {"a$+", 2, 1, "anchor cannot be repeated"},
  });
}

TEST_CASE("reversed and malformed class ranges are refused", "[regex][reject]") {
  check_rejections({
      {"[z-a]", 1, 3, "reversed range z-a"},
      {"x[0-9z-a]", 5, 3, "write a-z"},
      {"[\\x7f-\\x00]", 1, 9, "reversed range"},
      {"[a-\\d]", 3, 2, "cannot end a range"},
      {"[\\d-z]", 1, 3, "cannot start a range"},
  });
}

TEST_CASE("anchors only where they can match", "[regex][reject]") {
  check_rejections({
      {"a^b", 1, 1, "'^' must come first"},
      {"a$b", 1, 1, "'$' must come last"},
      {"x(^a)", 2, 1, "'^' must come first"},
      {"(a$)x", 2, 1, "'$' must come last"},
      {"a|b^", 3, 1, "'^' must come first"},
      {"$^", 0, 1, "'$' must come last"},
      {"a?^b", 2, 1, "'^' must come first"},
  });
}

TEST_CASE("empty alternatives are refused at their '|'", "[regex][reject]") {
  check_rejections({
      {"a|", 1, 1, "empty alternative"},
      {"|a", 0, 1, "empty alternative"},
      {"a||b", 1, 1, "empty alternative"},
      {"(|a)", 1, 1, "empty alternative"},
      {"(a|)", 2, 1, "empty alternative"},
  });
}

TEST_CASE("accepted forms near the refused ones", "[regex][reject]") {
  for (const char* p : {"a*?", "a+?", "a??", "a{2}?", "a{2,}?", "a{1,3}?", "(?:a)", "(a)",
                        "\\.\\\\\\/\\-", "[a-]", "[-a]", "[^-]", "\\{\\}\\[\\]\\(\\)",
                        "(^a|b$)", "^(a|^b)", "^^a$$", "(a$|b)$", "^", "$", "^$", "a{0}", "a{1000}",
                        "[\\d\\w\\s]", "\\x2e", "[\\x00-\\xff]", "a\\ b", "/", "(((a)))"}) {
    INFO("pattern /" << p << "/");
    auto r = parse_regex(p);
    CHECK(r.ok());
    if (!r.ok()) FAIL_CHECK(r.error().message);
  }
}
