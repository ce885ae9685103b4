// What may follow a '(': a plain group, (?:, and a precise refusal for each
// of the many PCRE, Python and .NET group forms that are not regular or
// make no sense here.
#pragma once

#include <cstddef>
#include <string_view>

namespace dnspc::regex::detail {

// `open` is at '('; returns the offset where the group's body starts.
size_t group_body(std::string_view p, size_t open);

}  // namespace dnspc::regex::detail
