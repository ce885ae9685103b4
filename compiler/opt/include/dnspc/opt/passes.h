// Optimiser passes over the decision program. Each keeps the program's
// meaning exactly (first-match order, which tests run with side effects and
// in which order) and can be tested alone.
#pragma once

#include <cstddef>

#include "dnspc/ir/program.h"

namespace dnspc::opt {

struct DedupeStats {
  size_t tests_before = 0, tests_after = 0;
  size_t tables_before = 0, tables_after = 0;
};

// Identical tests (same kind, operator, value and table contents) become one
// test, and identical tables one table, so merged lookups report each fact
// once. Stateful tests are never merged: each QPS bound has its own bucket.
DedupeStats dedupe_tests(ir::Program& program);

// Within every `or`, the name tests become one test of their union, and so
// do the source-address, destination-address and qtype tests. Returns how
// many tests were folded into unions. Run before dedupe_tests (the tables
// it leaves behind unused are harmless; dedupe merges equal ones).
size_t merge_set_tests(ir::Program& program);

// Within every and/or, puts cheap side-effect-free tests before expensive
// ones (header bits before name lookups before regexes). Only children with
// no stateful test in them move, and they stay ahead of those that have one,
// so no bucket is charged and no random number drawn differently.
void order_by_cost(ir::Program& program);

// The relative cost of evaluating a test, for ordering.
unsigned test_cost(const ir::Program& program, const ir::Test& test);

}  // namespace dnspc::opt
