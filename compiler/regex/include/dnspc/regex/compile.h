// Syntax tree -> DfaTable (stdlib/include/dnspc/dfa_table.h): Thompson NFA,
// subset construction under a budget, Hopcroft minimisation, byte classes.
// Search semantics: an unanchored regex matches anywhere in the text.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dnspc/dfa_table.h"
#include "dnspc/regex/ast.h"
#include "dnspc/regex/error.h"

namespace dnspc::regex {

struct DfaOptions {
  // Policy option regex_state_budget: the most DFA states construction may
  // create (before minimisation), at most kDfaMaxStates. Construction work is
  // bounded in proportion, so no regex can hang the compiler or eat memory.
  uint32_t state_budget = 10000;
};

// One regex; the table's only pattern id is 0.
RegexResult<DfaTable> compile_dfa(const Regex& regex, const DfaOptions& options = {});

// parse_regex + compile_dfa.
RegexResult<DfaTable> compile_regex(std::string_view pattern, const DfaOptions& options = {});

// One table for all `regexes`: a run ends in a state whose dfa_accepted() ids
// are exactly the indexes of the regexes that match. nullopt when the union
// needs more than the budget; the caller then runs the regexes one by one.
std::optional<DfaTable> build_union(std::span<const Regex* const> regexes,
                                    const DfaOptions& options = {});

}  // namespace dnspc::regex
