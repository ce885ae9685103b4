// Minimised DFA -> DfaTable: canonical state numbering, sinks first, and
// byte classes merged where the minimal DFA no longer tells them apart.
#pragma once

#include <cstdint>

#include "dnspc/dfa_table.h"
#include "minimize.h"
#include "subset.h"

namespace dnspc::regex::detail {

DfaTable emit_table(const RawDfa& dfa, const Partition& partition, uint32_t pattern_count);

}  // namespace dnspc::regex::detail
