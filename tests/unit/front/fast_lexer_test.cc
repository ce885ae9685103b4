// FastLexer (the first parse stage's token source) against the lexer ANTLR
// generates from DnsPolicyLexer.g4: the same tokens, field by field, on every
// policy in the repository, on tricky hand-written text and on random text.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "DnsPolicyLexer.h"
#include "fast_lexer.h"

namespace {

using dnspc::parse::CodePointStream;
using dnspc::parse::FastLexer;

std::vector<std::string> describe_all(antlr4::TokenSource& source) {
  std::vector<std::string> out;
  for (;;) {
    std::unique_ptr<antlr4::Token> t = source.nextToken();
    out.push_back(fmt::format("type {} chars {}..{} line {} column {} channel {} text '{}'",
                              static_cast<long>(t->getType()),
                              static_cast<long>(t->getStartIndex()),
                              static_cast<long>(t->getStopIndex()), t->getLine(),
                              t->getCharPositionInLine(), t->getChannel(), t->getText()));
    if (t->getType() == antlr4::Token::EOF) return out;
  }
}

void check_same_tokens(const std::string& text) {
  antlr4::ANTLRInputStream antlr_input(text);
  dnspc::grammar::DnsPolicyLexer antlr_lexer(&antlr_input);
  antlr_lexer.removeErrorListeners();
  CodePointStream fast_input(text);
  FastLexer fast_lexer(fast_input);
  std::vector<std::string> expected = describe_all(antlr_lexer);
  std::vector<std::string> got = describe_all(fast_lexer);
  INFO("text: " << text);
  for (size_t i = 0; i < std::min(expected.size(), got.size()); ++i) {
    INFO("token " << i);
    REQUIRE(got[i] == expected[i]);
  }
  REQUIRE(got.size() == expected.size());
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("FastLexer scans by hand exactly the grammar's tokens that have no literal",
          "[front][lexer]") {
  antlr4::ANTLRInputStream empty("");
  dnspc::grammar::DnsPolicyLexer lexer(&empty);
  const antlr4::dfa::Vocabulary& v = lexer.getVocabulary();
  std::vector<std::string_view> scanned = FastLexer::scanned_token_names();
  std::vector<std::string> unliteral;
  for (size_t type = 1; type <= v.getMaxTokenType(); ++type) {
    if (v.getLiteralName(type).empty()) unliteral.push_back(v.getSymbolicName(type));
  }
  CHECK(unliteral == std::vector<std::string>(scanned.begin(), scanned.end()));
}

TEST_CASE("FastLexer matches ANTLR's lexer on every policy in the repository", "[front][lexer]") {
  size_t files = 0;
  for (const char* dir : {"samples", "tests"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(
             std::filesystem::path(DNSPC_SOURCE_DIR) / dir)) {
      if (e.path().extension() != ".dp") continue;
      ++files;
      check_same_tokens(read(e.path()));
    }
  }
  CHECK(files > 50);
}

TEST_CASE("FastLexer matches ANTLR's lexer on the cases longest-match decides", "[front][lexer]") {
  for (const char* text : {
           "listen 127.0.0.1:5353, [::1]:53, 2001:db8::1;",
           "rules rule listener listen no_recurse set_cd set_cdx _x a-b-c",
           "10ms 10m 10msx 5min 1s5 7d 7h 1.5 1.2.3 1.2.3.4/24 1.2.3.4.5 12 0",
           "dead:beef::1 ab:cd a:: ::1 :: : ::: 1:2 1d::3 face:b00c::/48 abc:def:ghi",
           "\"a\\\"b\" \"unterminated\n\"x\\\n\" \"\\",
           "qname ~ /^a\\/b$/ => drop; qname ~/x/; qname ~\n/x/; qname ~ x; ~ /open\n/ ~\t/ok/ ~",
           "=> == != <= >= < > = ~ {}()[],;:/. & | $ @ =>= ==> !x",
           "# comment only",
           "x # comment\r\ny\r\n",
           "",
           "   \t\n",
           "caf\xc3\xa9 \"caf\xc3\xa9\" # \xe2\x82\xac\n\xe2\x82\xac x",
           "\xef\xbb\xbfrule r: qname suffix \"b\xc3\xa9.\" => drop;",
           "\xef\xbb\xbfrule ascii;",
       }) {
    check_same_tokens(text);
  }
}

TEST_CASE("FastLexer matches ANTLR's lexer on random text", "[front][lexer]") {
  // Characters every token rule starts, continues or ends with, plus
  // multi-byte UTF-8 (ANTLR counts code points, not bytes).
  const std::vector<std::string> alphabet = {"a",        "f",
                                             "g",        "m",
                                             "s",        "d",
                                             "h",        "x",
                                             "_",        "-",
                                             "0",        "1",
                                             "9",        ".",
                                             ":",        "/",
                                             "\\",       "\"",
                                             "~",        "#",
                                             " ",        "\t",
                                             "\n",       "\r",
                                             "=",        ">",
                                             "<",        "!",
                                             "{",        "}",
                                             ";",        ",",
                                             "[",        "]",
                                             "(",        ")",
                                             "\xc3\xa9", "\xe2\x82\xac",
                                             "rule",     "listen",
                                             "ms",       "qname",
                                             "in",       "and"};
  std::mt19937 random(20261125);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1), length(0, 40);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (size_t n = length(random); n > 0; --n) text += alphabet[pick(random)];
    check_same_tokens(text);
  }
}
