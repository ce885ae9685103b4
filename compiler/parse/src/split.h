// Splitting a large policy into chunks of whole statements, so that the
// chunks can be lexed, parsed and transformed on several cores (a 100k-rule
// policy spends most of `dnspc check` in ANTLR). Statements never span a
// chunk boundary: a boundary follows a ';' or a '}' at brace depth 0,
// outside strings, comments and regexes.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace dnspc::parse {

// Byte offsets where chunks start: the first is 0; at most `max_chunks`
// chunks of at least `min_chunk` bytes each.
std::vector<size_t> split_statements(std::string_view text, size_t max_chunks, size_t min_chunk);

}  // namespace dnspc::parse
