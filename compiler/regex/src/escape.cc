// Escapes: the few regular ones, and a precise refusal for each family of
// non-regular or foreign ones, since users paste patterns from PCRE, Python
// and JavaScript.
#include "escape.h"

#include <fmt/format.h>

#include "parse_failure.h"

namespace dnspc::regex::detail {

namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

uint8_t hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  return static_cast<uint8_t>(fold_byte(static_cast<uint8_t>(c)) - 'a' + 10);
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// End of a delimited name such as <name>, {name} or 'name' starting at `pos`,
// or `pos` when there is none (so the error covers just the escape).
size_t skip_delimited(std::string_view p, size_t pos) {
  if (pos >= p.size()) return pos;
  char close = p[pos] == '<' ? '>' : p[pos] == '{' ? '}' : p[pos] == '\'' ? '\'' : 0;
  if (close == 0) return pos;
  size_t end = p.find(close, pos + 1);
  return end == std::string_view::npos ? pos : end + 1;
}

ByteSet class_escape(char c) {
  ByteSet s;
  switch (fold_byte(static_cast<uint8_t>(c))) {
    case 'd': s.add_range('0', '9'); break;
    case 'w':
      s.add_range('a', 'z');
      s.add_range('0', '9');
      s.add('_');
      break;
    default:  // 's'
      s.add(' ');
      s.add_range('\t', '\r');  // \t \n \v \f \r
      break;
  }
  if (c >= 'A' && c <= 'Z') s.negate();
  return s;
}

}  // namespace

void fail_non_ascii(std::string_view p, size_t pos) {
  size_t end = pos;
  while (end < p.size() && static_cast<uint8_t>(p[end]) >= 0x80) ++end;
  fail(pos, end - pos,
       "non-ASCII character: names are matched byte by byte (internationalised names are "
       "xn-- punycode on the wire); write bytes as \\xHH escapes");
}

Escape parse_escape(std::string_view p, size_t& pos, bool in_class) {
  const size_t start = pos++;
  if (pos >= p.size()) fail(start, 1, "pattern ends with a lone backslash; write \\\\ to match '\\'");
  const char c = p[pos++];
  Escape e;
  auto single = [&](uint8_t b) {
    e.byte = b;
    return e;
  };
  switch (c) {
    case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
      e.is_class = true;
      e.set = class_escape(c);
      return e;
    case 't': return single('\t');
    case 'n': return single('\n');
    case 'r': return single('\r');
    case 'f': return single('\f');
    case 'v': return single('\v');
    case 'x': {
      if (pos + 1 < p.size() && is_hex(p[pos]) && is_hex(p[pos + 1])) {
        uint8_t b = static_cast<uint8_t>(hex_value(p[pos]) << 4 | hex_value(p[pos + 1]));
        pos += 2;
        return single(b);
      }
      if (pos < p.size() && p[pos] == '{') {
        fail(start, skip_delimited(p, pos) - start,
             "\\x{...} is not supported: names are bytes; use exactly two hex digits, e.g. \\x2d");
      }
      size_t end = pos;
      while (end < p.size() && end < pos + 2 && is_hex(p[end])) ++end;
      fail(start, end - start, "\\x needs exactly two hex digits, e.g. \\x2d");
    }
    case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9': {
      while (pos < p.size() && p[pos] >= '0' && p[pos] <= '9') ++pos;
      fail(start, pos - start,
           fmt::format("backreference {} is not supported: it is not regular, so no DFA can match "
                       "it; repeat the group's pattern instead",
                       p.substr(start, pos - start)));
    }
    case '0':
      fail(start, 2, "octal escapes are not supported; write \\x00 and friends instead");
    case 'k':
      fail(start, skip_delimited(p, pos) - start,
           "named backreference \\k<...> is not supported: it is not regular, so no DFA can match "
           "it; repeat the group's pattern instead");
    case 'g': {
      size_t end = skip_delimited(p, pos);
      if (end == pos) {
        if (end < p.size() && p[end] == '-') ++end;
        while (end < p.size() && p[end] >= '0' && p[end] <= '9') ++end;
      }
      fail(start, end - start,
           "\\g backreferences and subroutine calls are not supported: they are not regular; "
           "repeat the group's pattern instead");
    }
    case 'b': case 'B':
      fail(start, 2,
           in_class ? "\\b inside a class is not supported; write \\x08 for a backspace"
                    : "word boundaries (\\b, \\B) are not supported: a DFA cannot look around; "
                      "match the neighbour explicitly, e.g. (^|\\.) for a label start");
    case 'p': case 'P': {
      size_t end = skip_delimited(p, pos);
      if (end == pos && pos < p.size()) ++end;  // one-letter form \pL
      fail(start, end - start,
           "unicode classes (\\p, \\P) are not supported: names are matched byte by byte; use a "
           "bracket class such as [a-z0-9]");
    }
    case 'A': case 'z': case 'Z': case 'G':
      fail(start, 2,
           fmt::format("\\{} is not supported; use ^ for the start of the name and $ for its end",
                       c));
    case 'Q': case 'E':
      fail(start, 2, "quoting with \\Q...\\E is not supported; escape each special character");
    case 'u': case 'U':
      fail(start, 2, "\\u escapes are not supported: names are bytes; use \\xHH");
    case 'c':
      fail(start, pos < p.size() ? 3 : 2, "control escapes (\\cX) are not supported; use \\xHH");
    default: break;
  }
  if (static_cast<uint8_t>(c) >= 0x80) fail_non_ascii(p, pos - 1);
  if (is_alnum(c)) {
    fail(start, 2,
         fmt::format("unknown escape \\{}; escape only punctuation (\\. \\- \\/ ...), or use "
                     "\\d \\w \\s \\xHH",
                     c));
  }
  return single(static_cast<uint8_t>(c));  // escaped punctuation stands for itself
}

}  // namespace dnspc::regex::detail
