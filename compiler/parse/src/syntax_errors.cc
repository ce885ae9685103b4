#include "syntax_errors.h"

#include <fmt/core.h>

#include <cctype>

#include "DnsPolicyLexer.h"
#include "DnsPolicyParser.h"

namespace dnspc::parse {

using grammar::DnsPolicyLexer;
using grammar::DnsPolicyParser;

namespace {

std::string describe(const antlr4::dfa::Vocabulary& vocab, size_t type) {
  switch (type) {
    case antlr4::Token::EOF: return "end of file";
    case DnsPolicyLexer::IDENT: return "a name";
    case DnsPolicyLexer::INT: return "an integer";
    case DnsPolicyLexer::FLOAT: return "a number";
    case DnsPolicyLexer::STRING: return "a string";
    case DnsPolicyLexer::DURATION: return "a duration (like 10s)";
    case DnsPolicyLexer::IPV4: return "an IPv4 address";
    case DnsPolicyLexer::IPV6: return "an IPv6 address";
    case DnsPolicyLexer::REGEX: return "a regex (like /^www\\./)";
    default: return vocab.getDisplayName(type);
  }
}

bool expects(const antlr4::misc::IntervalSet& set, size_t type) {
  return set.contains(static_cast<ssize_t>(type));
}

bool is_keyword(const antlr4::Token* t) {
  const std::string& s = t->getText();
  return t->getType() != DnsPolicyLexer::IDENT && !s.empty() &&
         std::isalpha(static_cast<unsigned char>(s[0]));
}

bool starts_statement(size_t type) {
  switch (type) {
    case DnsPolicyLexer::LISTEN:
    case DnsPolicyLexer::ACL:
    case DnsPolicyLexer::CONSOLE:
    case DnsPolicyLexer::WEB:
    case DnsPolicyLexer::CONTROL:
    case DnsPolicyLexer::OPTION:
    case DnsPolicyLexer::POOL:
    case DnsPolicyLexer::SERVER:
    case DnsPolicyLexer::RULE:
    case DnsPolicyLexer::RESPONSE:
    case DnsPolicyLexer::DYNBLOCK:
    case DnsPolicyLexer::SUFFIXES:
    case DnsPolicyLexer::NAMES:
    case DnsPolicyLexer::NETMASKS:
    case DnsPolicyLexer::QTYPES:
    case DnsPolicyLexer::XDP:
    case DnsPolicyLexer::RBRACE:
    case antlr4::Token::EOF:
      return true;
    default:
      return false;
  }
}

}  // namespace

diag::SourceRange SyntaxErrorListener::token_range(const antlr4::Token* t) const {
  if (t->getType() == antlr4::Token::EOF) {
    uint32_t end = offsets_.byte_offset(t->getStartIndex());
    return {file_, end, end};
  }
  return {file_, offsets_.byte_offset(t->getStartIndex()), offsets_.byte_offset(t->getStopIndex() + 1)};
}

// The character after the token; at the end of the file there is none, and
// the range is empty there rather than one byte past the text (found by
// the policy_frontend fuzz target: renderers and JSON readers slice by it).
diag::SourceRange SyntaxErrorListener::after(const antlr4::Token* t) const {
  uint32_t end = offsets_.byte_offset(t->getStopIndex() + 1);
  return {file_, end, end < diags_.sources().text(file_).size() ? end + 1 : end};
}

void SyntaxErrorListener::syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending,
                                      size_t, size_t, const std::string& msg, std::exception_ptr) {
  auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
  if (!parser || !offending) {
    // Our lexer has a catch-all token, so it never reports; be safe anyway.
    diags_.error("syntax", {file_, 0, 0}, msg);
    ++errors_;
    return;
  }
  // One report per offending token: recovery may trip over it again.
  if (offending->getTokenIndex() == last_error_token_) return;
  last_error_token_ = offending->getTokenIndex();
  ++errors_;

  const auto& vocab = parser->getVocabulary();
  antlr4::misc::IntervalSet expected;
  try {
    expected = parser->getExpectedTokens();
  } catch (...) {
  }
  auto* tokens = dynamic_cast<antlr4::TokenStream*>(parser->getInputStream());
  const antlr4::Token* prev = nullptr;
  if (tokens && offending->getTokenIndex() > 0) {
    for (size_t i = offending->getTokenIndex(); i-- > 0;) {
      const antlr4::Token* t = tokens->get(i);
      if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL) {
        prev = t;
        break;
      }
    }
  }
  size_t type = offending->getType();
  std::string text = offending->getText();
  diag::SourceRange here = token_range(offending);
  if (tokens && quiet_until_semi_after_ < offending->getTokenIndex()) {
    bool semi = false;
    for (size_t i = quiet_until_semi_after_; i < offending->getTokenIndex() && !semi; ++i) {
      semi = tokens->get(i)->getType() == DnsPolicyLexer::SEMI;
    }
    if (!semi) return;
    quiet_until_semi_after_ = SIZE_MAX;
  }

  if (type == DnsPolicyLexer::UNEXPECTED_CHAR) {
    if (text == "\"") {
      diags_.error("syntax-string", here, "unterminated string; close it with '\"' on the same line");
    } else {
      diags_.error("syntax-char", here, fmt::format("unexpected character '{}'", text));
    }
    return;
  }
  if (type == DnsPolicyLexer::REGEX_MISSING) {
    diags_.error("syntax-regex", here,
                 "expected a regex between slashes after '~', like /^www\\./; a regex must end "
                 "with '/' on the same line");
    return;
  }
  // `qname = "x"`: wherever '=' is an error, a comparison was meant.
  if (type == DnsPolicyLexer::ASSIGN &&
      (expects(expected, DnsPolicyLexer::EQ) || expects(expected, DnsPolicyLexer::ARROW) ||
       expects(expected, DnsPolicyLexer::RPAREN))) {
    diags_.error("syntax-assign", here, "'=' is not a comparison; use '=='");
    return;
  }
  // `xdp eth0;`: the interface is a string (it may hold '-', '.', '@').
  if (prev && prev->getType() == DnsPolicyLexer::XDP && type != DnsPolicyLexer::STRING) {
    diags_.error("syntax-xdp", here,
                 fmt::format("the xdp interface is written in quotes, like xdp \"{}\";",
                             type == DnsPolicyLexer::IDENT ? text : "eth0"));
    quiet_until_semi_after_ = offending->getTokenIndex();
    return;
  }
  if (prev && expects(expected, DnsPolicyLexer::SEMI) && starts_statement(type) &&
      !expects(expected, type)) {
    diags_.error("syntax-semicolon", after(prev),
                 fmt::format("expected ';' after '{}' to end the statement", prev->getText()));
    return;
  }
  if (prev && prev->getType() == DnsPolicyLexer::IDENT &&
      (expects(expected, DnsPolicyLexer::EQ) || expects(expected, DnsPolicyLexer::ARROW)) &&
      (type == DnsPolicyLexer::IDENT || type == DnsPolicyLexer::STRING || type == DnsPolicyLexer::INT)) {
    std::string keyword = diag::closest_match(text, {"suffix", "in"});
    if (type == DnsPolicyLexer::IDENT && !keyword.empty()) {
      diags_.error("syntax-operator", here,
                   fmt::format("unknown operator '{}'; did you mean '{}'?", text, keyword));
      return;
    }
    diags_.error("syntax-operator", here,
                 fmt::format("expected an operator between '{}' and '{}'; write '{} == {}'",
                             prev->getText(), text, prev->getText(), text));
    return;
  }
  if (expects(expected, DnsPolicyLexer::IDENT) && is_keyword(offending) &&
      !expects(expected, type)) {
    diags_.error("syntax-reserved", here,
                 fmt::format("'{}' is a reserved word and cannot be used as a name here", text));
    return;
  }
  if (expects(expected, DnsPolicyLexer::ARROW) && expected.size() <= 4) {
    diags_.error("syntax-arrow", here,
                 fmt::format("expected '=>' between the rule's condition and its action, found {}",
                             type == antlr4::Token::EOF ? "end of file" : "'" + text + "'"));
    return;
  }

  std::vector<std::string> wanted;
  for (size_t t : expected.toList()) {
    if (t == DnsPolicyLexer::UNEXPECTED_CHAR || t == DnsPolicyLexer::REGEX_MISSING) continue;
    wanted.push_back(describe(vocab, t));
  }
  std::string list;
  size_t shown = std::min<size_t>(wanted.size(), 8);
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) list += i + 1 == shown && shown == wanted.size() ? " or " : ", ";
    list += wanted[i];
  }
  if (shown < wanted.size()) list += ", ...";
  std::string found = type == antlr4::Token::EOF ? "end of file" : "'" + text + "'";
  if (list.empty()) {
    diags_.error("syntax", here, fmt::format("unexpected {}", found));
  } else {
    diags_.error("syntax", here, fmt::format("unexpected {}; expected {}", found, list));
  }
}

}  // namespace dnspc::parse
