// Disjunctive normal form of a rule's condition, over test ids (private).
#pragma once

#include <optional>
#include <vector>

#include "dnspc/ir/program.h"

namespace dnspc::opt {

struct Literal {
  uint32_t test;
  bool negated;
};
using Conjunction = std::vector<Literal>;

// nullopt when the form would exceed `max_terms` conjunctions.
std::optional<std::vector<Conjunction>> to_dnf(const ir::Program& p, uint32_t node, bool negated,
                                               size_t max_terms);

}  // namespace dnspc::opt
