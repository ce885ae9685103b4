// Hopcroft's minimisation: groups the states of a DFA that no continuation
// can tell apart (same accept sets now and after every text).
#pragma once

#include <cstdint>
#include <vector>

#include "subset.h"

namespace dnspc::regex::detail {

struct Partition {
  std::vector<uint32_t> block_of;  // per DFA state
  uint32_t block_count = 0;
};

Partition minimize(const RawDfa& dfa);

}  // namespace dnspc::regex::detail
