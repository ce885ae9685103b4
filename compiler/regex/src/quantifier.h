// Quantifier syntax: * + ? {n} {n,} {n,m}, their lazy forms, and the
// refusal of possessive and stacked ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dnspc::regex::detail {

struct Quantifier {
  uint32_t min = 0;
  uint32_t max = 0;  // kUnbounded for * + {n,}
};

bool at_quantifier(std::string_view p, size_t pos);

// `pos` is at the quantifier; on return it is past it (and its lazy '?').
Quantifier parse_quantifier(std::string_view p, size_t& pos);

}  // namespace dnspc::regex::detail
