// The token source of the first parse stage (parse.cc): the same tokens as
// the ANTLR lexer generated from DnsPolicyLexer.g4 (same types, character
// indexes, lines and columns), found by direct scanning instead of ANTLR's
// ATN simulation, which takes a process-wide lock per character and was a
// fifth of `dnspc check`. The grammar stays the definition: literal tokens
// (keywords, operators) are read from its vocabulary, the error stage re-lexes
// with the generated lexer, and a unit test compares both lexers token by
// token on every sample and on random text.
#pragma once

#include <antlr4-runtime.h>

#include <string_view>

#include "offsets.h"

namespace dnspc::parse {

// An ANTLRInputStream that lets FastLexer read its code points directly, and
// answers every token's getText() from the UTF-8 it was given (`utf8` must
// outlive it): ANTLR's own re-encodes the code points through a fresh
// std::wstring_convert per call, which was most of the transformer's time.
// ASCII text is widened directly, without ANTLR's UTF-8 decoder.
class CodePointStream : public antlr4::ANTLRInputStream {
 public:
  explicit CodePointStream(std::string_view utf8);
  std::u32string_view code_points() const { return {_data.data(), _data.size()}; }
  std::string getText(const antlr4::misc::Interval& interval) override;

 private:
  std::string_view utf8_;
  OffsetMap offsets_;
};

class FastLexer : public antlr4::TokenSource {
 public:
  explicit FastLexer(CodePointStream& input);

  std::unique_ptr<antlr4::Token> nextToken() override;
  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() override { return column_; }
  antlr4::CharStream* getInputStream() override { return &input_; }
  std::string getSourceName() override { return input_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override;

  // The token types the grammar defines without a literal (IDENT, STRING...):
  // FastLexer scans each of them by hand, so a grammar that grows another one
  // must grow it here too (a unit test holds the two lists together).
  static std::vector<std::string_view> scanned_token_names();

 private:
  struct Match {
    size_t type = 0;
    size_t length = 0;
  };
  Match match_default(size_t at) const;
  Match match_regex_mode(size_t at) const;
  void advance(size_t length);

  CodePointStream& input_;
  std::u32string_view text_;
  size_t at_ = 0;
  size_t line_ = 1;
  size_t column_ = 0;
  bool regex_mode_ = false;  // after '~' (the grammar's REGEX_MODE), for one token
};

}  // namespace dnspc::parse
