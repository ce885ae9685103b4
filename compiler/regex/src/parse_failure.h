// The parser's passes stop at the first error by throwing it to
// parse_regex(), which turns it into a RegexResult; nothing escapes the
// library. Deeply recursive descent reads far better this way than with an
// error check after every call.
#pragma once

#include <cstddef>
#include <string>

#include "dnspc/regex/error.h"

namespace dnspc::regex::detail {

struct ParseFailure {
  RegexError error;
};

[[noreturn]] inline void fail(size_t offset, size_t length, std::string message) {
  throw ParseFailure{RegexError{static_cast<uint32_t>(offset), static_cast<uint32_t>(length),
                                std::move(message)}};
}

}  // namespace dnspc::regex::detail
