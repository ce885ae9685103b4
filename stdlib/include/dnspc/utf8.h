// Well-formed UTF-8 (RFC 3629), as the policy reader requires and every
// printer of outside bytes (diagnostics, text logs) keeps.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dnspc {

// The length of the well-formed UTF-8 sequence that starts at text[i] (1
// for ASCII), or 0 when none does there (a stray, overlong or cut byte, a
// surrogate, or past U+10FFFF).
size_t utf8_sequence_length(std::string_view text, size_t i);

// `text` with each control byte but the tab, and each byte outside
// well-formed UTF-8, replaced by '?', one for one (so a caret under a
// snippet keeps its column). Text from a file, a client or a Lua error,
// made safe to print on a terminal and to put in JSON.
std::string printable_text(std::string_view text);

}  // namespace dnspc
