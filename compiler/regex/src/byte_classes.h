// Bytes that every set of an NFA treats alike share a class, so the subset
// construction computes one transition per class instead of per byte.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "dnspc/regex/ast.h"

namespace dnspc::regex::detail {

struct ByteClasses {
  std::array<uint8_t, 256> of_byte{};  // 'A'..'Z' share the class of 'a'..'z'
  std::vector<uint8_t> representative; // per class: one of its bytes
  uint32_t count() const { return static_cast<uint32_t>(representative.size()); }
};

ByteClasses partition_bytes(std::span<const ByteSet> sets);

}  // namespace dnspc::regex::detail
