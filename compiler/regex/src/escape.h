// Backslash escapes, shared by the main parser and bracket classes.
#pragma once

#include <cstddef>
#include <string_view>

#include "dnspc/regex/ast.h"

namespace dnspc::regex::detail {

struct Escape {
  bool is_class = false;  // \d \w \s and their negations: a set, not one byte
  uint8_t byte = 0;
  ByteSet set;
};

// `pos` is at the backslash; on return it is just past the escape.
// Unsupported escapes fail with their whole range.
Escape parse_escape(std::string_view p, size_t& pos, bool in_class);

// Non-ASCII bytes are rejected wherever they appear; this names the range.
[[noreturn]] void fail_non_ascii(std::string_view p, size_t pos);

}  // namespace dnspc::regex::detail
