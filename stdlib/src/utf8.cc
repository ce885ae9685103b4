#include "dnspc/utf8.h"

namespace dnspc {

size_t utf8_sequence_length(std::string_view text, size_t i) {
  auto b = static_cast<unsigned char>(text[i]);
  if (b < 0x80) return 1;
  size_t n = 0;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  if (b >= 0xe0 && b <= 0xef) n = 3;
  if (b >= 0xf0 && b <= 0xf4) n = 4;
  if (n == 0 || i + n > text.size()) return 0;
  auto second = static_cast<unsigned char>(text[i + 1]);
  // No overlong forms, no surrogates, nothing past U+10FFFF.
  if ((b == 0xe0 && second < 0xa0) || (b == 0xed && second > 0x9f) ||
      (b == 0xf0 && second < 0x90) || (b == 0xf4 && second > 0x8f)) {
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

std::string printable_text(std::string_view text) {
  std::string out(text);
  for (size_t i = 0; i < out.size();) {
    const auto b = static_cast<unsigned char>(out[i]);
    size_t n = utf8_sequence_length(out, i);
    if (n == 0 || (b < 0x20 && b != '\t') || b == 0x7f) {
      out[i] = '?';
      n = 1;
    }
    i += n;
  }
  return out;
}

}  // namespace dnspc
