#include "fast_lexer.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "DnsPolicyLexer.h"

namespace dnspc::parse {

namespace {

using L = grammar::DnsPolicyLexer;

struct Literal {
  std::u32string text;
  size_t type;
};

// The grammar's literal tokens ('listen', '=>', ...) by first character,
// from the generated lexer's vocabulary, so that a keyword added to the
// grammar needs no change here.
struct LiteralTable {
  std::array<std::vector<Literal>, 128> by_first;

  LiteralTable() {
    antlr4::ANTLRInputStream empty("");
    L lexer(&empty);
    const antlr4::dfa::Vocabulary& vocabulary = lexer.getVocabulary();
    for (size_t type = 1; type <= vocabulary.getMaxTokenType(); ++type) {
      std::string quoted = vocabulary.getLiteralName(type);
      if (quoted.size() < 3) continue;
      std::u32string text(quoted.begin() + 1, quoted.end() - 1);  // ASCII between the quotes
      by_first[text[0] & 0x7f].push_back({std::move(text), type});
    }
  }
};

const LiteralTable& literals() {
  static const LiteralTable table;
  return table;
}

bool digit(char32_t c) {
  return c >= '0' && c <= '9';
}
bool hex(char32_t c) {
  return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool letter(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool ident_start(char32_t c) {
  return letter(c) || c == '_';
}
bool ident_char(char32_t c) {
  return ident_start(c) || digit(c) || c == '-';
}
bool line_end(char32_t c) {
  return c == '\r' || c == '\n';
}

// Each scanner returns the length of the longest match of its grammar rule
// at `i`, 0 for none. `t` is the chunk's text as code points.

template <typename Pred>
size_t run(std::u32string_view t, size_t i, Pred pred) {
  size_t j = i;
  while (j < t.size() && pred(t[j])) ++j;
  return j - i;
}

size_t at_is(std::u32string_view t, size_t i, char32_t c) {
  return i < t.size() && t[i] == c;
}

// IPV4: DIGIT+ '.' DIGIT+ '.' DIGIT+ '.' DIGIT+
size_t scan_ipv4(std::u32string_view t, size_t i) {
  size_t j = i;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (!at_is(t, j, '.')) return 0;
      ++j;
    }
    size_t n = run(t, j, digit);
    if (n == 0) return 0;
    j += n;
  }
  return j - i;
}

// IPV6: HEX* ':' HEX* ':' (HEX | ':' | '.')*
size_t scan_ipv6(std::u32string_view t, size_t i) {
  size_t j = i;
  for (int colon = 0; colon < 2; ++colon) {
    j += run(t, j, hex);
    if (!at_is(t, j, ':')) return 0;
    ++j;
  }
  j += run(t, j, [](char32_t c) { return hex(c) || c == ':' || c == '.'; });
  return j - i;
}

// DURATION: DIGIT+ ('ms' | 's' | 'm' | 'h' | 'd')
size_t scan_duration(std::u32string_view t, size_t i) {
  size_t n = run(t, i, digit);
  if (n == 0 || i + n >= t.size()) return 0;
  char32_t unit = t[i + n];
  if (unit == 'm' && at_is(t, i + n + 1, 's')) return n + 2;
  if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') return n + 1;
  return 0;
}

// FLOAT: DIGIT+ '.' DIGIT+
size_t scan_float(std::u32string_view t, size_t i) {
  size_t n = run(t, i, digit);
  if (n == 0 || !at_is(t, i + n, '.')) return 0;
  size_t fraction = run(t, i + n + 1, digit);
  return fraction == 0 ? 0 : n + 1 + fraction;
}

// STRING: '"' (~["\\\r\n] | '\\' .)* '"'
size_t scan_string(std::u32string_view t, size_t i) {
  if (!at_is(t, i, '"')) return 0;
  for (size_t j = i + 1; j < t.size();) {
    char32_t c = t[j];
    if (c == '"') return j + 1 - i;
    if (line_end(c)) return 0;
    j += c == '\\' ? 2 : 1;
  }
  return 0;
}

// IDENT: [a-zA-Z_] [a-zA-Z0-9_-]*
size_t scan_ident(std::u32string_view t, size_t i) {
  if (!ident_start(t[i])) return 0;
  return 1 + run(t, i + 1, ident_char);
}

// REGEX: '/' ('\\' ~[\r\n] | ~[/\\\r\n])* '/'
size_t scan_regex(std::u32string_view t, size_t i) {
  if (!at_is(t, i, '/')) return 0;
  for (size_t j = i + 1; j < t.size();) {
    char32_t c = t[j];
    if (c == '/') return j + 1 - i;
    if (line_end(c)) return 0;
    if (c == '\\') {
      if (j + 1 >= t.size() || line_end(t[j + 1])) return 0;
      j += 2;
    } else {
      ++j;
    }
  }
  return 0;
}

// ANTLR's rule: the longest match wins; between equally long ones, the rule
// defined first in the grammar, which is the smaller token type.
struct Best {
  size_t type = 0, length = 0;
  void offer(size_t t, size_t n) {
    if (n > length || (n == length && n > 0 && t < type)) type = t, length = n;
  }
};

}  // namespace

namespace {

// ANTLRInputStream::load drops a UTF-8 byte order mark; so do our offsets.
std::string_view without_bom(std::string_view utf8) {
  return utf8.starts_with("\xef\xbb\xbf") ? utf8.substr(3) : utf8;
}

}  // namespace

CodePointStream::CodePointStream(std::string_view utf8)
    : utf8_(without_bom(utf8)), offsets_(utf8_) {
  if (offsets_.ascii()) {
    _data.assign(utf8_.begin(), utf8_.end());
    p = 0;
  } else {
    load(std::string(utf8));
  }
}

std::string CodePointStream::getText(const antlr4::misc::Interval& interval) {
  // ANTLRInputStream::getText's clamping, then the same characters' bytes.
  if (interval.a < 0 || interval.b < 0) return "";
  size_t size = _data.size();
  size_t start = static_cast<size_t>(interval.a);
  size_t stop = std::min(static_cast<size_t>(interval.b), size - 1);
  if (start >= size) return "";
  size_t end = start + std::min(stop - start + 1, size - start);
  uint32_t begin_byte = offsets_.byte_offset(start);
  return std::string(utf8_.substr(begin_byte, offsets_.byte_offset(end) - begin_byte));
}

FastLexer::FastLexer(CodePointStream& input) : input_(input), text_(input.code_points()) {
  literals();  // built here, not on the first token
}

std::vector<std::string_view> FastLexer::scanned_token_names() {
  return {"IPV4",    "IPV6", "DURATION",        "FLOAT",    "INT",   "STRING",       "IDENT",
          "COMMENT", "WS",   "UNEXPECTED_CHAR", "REGEX_WS", "REGEX", "REGEX_MISSING"};
}

antlr4::TokenFactory<antlr4::CommonToken>* FastLexer::getTokenFactory() {
  return antlr4::CommonTokenFactory::DEFAULT.get();
}

FastLexer::Match FastLexer::match_default(size_t at) const {
  std::u32string_view t = text_;
  char32_t c = t[at];
  Best best;
  if (c < 128) {
    for (const Literal& lit : literals().by_first[c]) {
      if (t.substr(at, lit.text.size()) == lit.text) best.offer(lit.type, lit.text.size());
    }
  }
  if (digit(c)) {
    best.offer(L::IPV4, scan_ipv4(t, at));
    best.offer(L::DURATION, scan_duration(t, at));
    best.offer(L::FLOAT, scan_float(t, at));
    best.offer(L::INT, run(t, at, digit));
  }
  if (hex(c) || c == ':') best.offer(L::IPV6, scan_ipv6(t, at));
  best.offer(L::STRING, scan_string(t, at));
  best.offer(L::IDENT, scan_ident(t, at));
  if (c == '#') best.offer(L::COMMENT, 1 + run(t, at + 1, [](char32_t x) { return !line_end(x); }));
  best.offer(L::WS, run(t, at, [](char32_t x) { return x == ' ' || x == '\t' || line_end(x); }));
  best.offer(L::UNEXPECTED_CHAR, 1);
  return {best.type, best.length};
}

FastLexer::Match FastLexer::match_regex_mode(size_t at) const {
  Best best;
  best.offer(L::REGEX_WS, run(text_, at, [](char32_t x) { return x == ' ' || x == '\t'; }));
  best.offer(L::REGEX, scan_regex(text_, at));
  best.offer(L::REGEX_MISSING, 1);
  return {best.type, best.length};
}

void FastLexer::advance(size_t length) {
  for (size_t end = at_ + length; at_ < end; ++at_) {
    if (text_[at_] == '\n') {
      ++line_;
      column_ = 0;
    } else {
      ++column_;
    }
  }
}

std::unique_ptr<antlr4::Token> FastLexer::nextToken() {
  for (;;) {
    size_t start = at_, line = line_, column = column_;
    if (at_ >= text_.size()) {
      auto eof =
          std::make_unique<antlr4::CommonToken>(std::make_pair(this, &input_), antlr4::Token::EOF,
                                                antlr4::Token::DEFAULT_CHANNEL, start, start - 1);
      eof->setLine(line);
      eof->setCharPositionInLine(column);
      return eof;
    }
    Match m = regex_mode_ ? match_regex_mode(at_) : match_default(at_);
    advance(m.length);
    // The grammar's lexer commands: `-> skip`, `-> pushMode`, `-> popMode`.
    if (m.type == L::COMMENT || m.type == L::WS || m.type == L::REGEX_WS) continue;
    if (m.type == L::TILDE) regex_mode_ = true;
    if (m.type == L::REGEX || m.type == L::REGEX_MISSING) regex_mode_ = false;
    auto token = std::make_unique<antlr4::CommonToken>(
        std::make_pair(this, &input_), m.type, antlr4::Token::DEFAULT_CHANNEL, start, at_ - 1);
    token->setLine(line);
    token->setCharPositionInLine(column);
    return token;
  }
}

}  // namespace dnspc::parse
