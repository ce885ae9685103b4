// Checks on the finished tree that need more context than the descent has.
#pragma once

#include "dnspc/regex/ast.h"

namespace dnspc::regex::detail {

// ^ and $ only where nothing can come before (after) them out to the
// pattern's edge; fails at the first misplaced anchor.
void check_anchors(const RegexNode& root);

// Fails when unrolling repetitions would need more than kMaxPositions
// positions, naming the innermost part that goes over.
void check_size(const RegexNode& root);

}  // namespace dnspc::regex::detail
