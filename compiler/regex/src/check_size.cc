// The unrolled size bound. Repetition bounds are each at most 1000, but
// nesting multiplies them: (a{1000}){1000} would be a million NFA states.
// Checking here keeps every later pass (and any test oracle) linear in it.
#include <algorithm>

#include <fmt/format.h>

#include "dnspc/regex/parse.h"
#include "parse_checks.h"
#include "parse_failure.h"

namespace dnspc::regex::detail {

namespace {

uint64_t positions(const RegexNode& n) {
  uint64_t total = 0;
  switch (n.kind) {
    case NodeKind::kSet:
    case NodeKind::kTextStart:
    case NodeKind::kTextEnd: total = 1; break;
    case NodeKind::kConcat:
    case NodeKind::kAlternation:
      for (const RegexNode& c : n.children) total += positions(c);
      break;
    case NodeKind::kRepeat: {
      uint64_t copies = n.max == kUnbounded ? std::max<uint64_t>(n.min, 1) : n.max;
      total = positions(n.children[0]) * copies;  // each factor is already <= the bound
      break;
    }
  }
  if (total > kMaxPositions) {
    fail(n.offset, n.length,
         fmt::format("regex too large: this part unrolls to more than {} positions (nested "
                     "repetition counts multiply); use smaller counts",
                     kMaxPositions));
  }
  return total;
}

}  // namespace

void check_size(const RegexNode& root) { positions(root); }

}  // namespace dnspc::regex::detail
