// The public compile entry points: NFA -> budgeted subset construction ->
// minimisation -> table, for one regex or a union of many.
#include "dnspc/regex/compile.h"

#include <fmt/format.h>

#include <algorithm>

#include "dnspc/regex/parse.h"
#include "emit_table.h"
#include "minimize.h"
#include "nfa.h"
#include "subset.h"

namespace dnspc::regex {

namespace {

// Work allowed per budgeted state: generous for real patterns (whose DFA
// states hold a few NFA states) yet a bound of well under a second on the
// worst ones at the default budget.
constexpr uint64_t kWorkPerState = 2000;

detail::SubsetLimits limits_for(const DfaOptions& options) {
  const uint32_t states = std::clamp<uint32_t>(options.state_budget, 2, kDfaMaxStates);
  return {states, uint64_t{states} * kWorkPerState};
}

std::optional<DfaTable> build(std::span<const Regex* const> regexes, const DfaOptions& options,
                              detail::SubsetStatus& status) {
  detail::Nfa nfa = detail::build_nfa(regexes);
  detail::RawDfa raw;
  status = detail::determinize(nfa, limits_for(options), raw);
  if (status != detail::SubsetStatus::kOk) return std::nullopt;
  return detail::emit_table(raw, detail::minimize(raw), static_cast<uint32_t>(regexes.size()));
}

}  // namespace

RegexResult<DfaTable> compile_dfa(const Regex& regex, const DfaOptions& options) {
  const Regex* one[] = {&regex};
  detail::SubsetStatus status{};
  std::optional<DfaTable> t = build(one, options, status);
  if (t) return std::move(*t);
  const uint32_t budget = limits_for(options).max_states;
  const auto length = static_cast<uint32_t>(regex.pattern.size());
  if (status == detail::SubsetStatus::kTooManyStates) {
    return RegexError{0, length,
                      fmt::format("regex needs more than {} DFA states; simplify it or raise "
                                  "option regex_state_budget",
                                  budget)};
  }
  return RegexError{0, length,
                    fmt::format("regex needs more DFA construction work than a budget of {} "
                                "states allows; simplify it or raise option regex_state_budget",
                                budget)};
}

RegexResult<DfaTable> compile_regex(std::string_view pattern, const DfaOptions& options) {
  RegexResult<Regex> r = parse_regex(pattern);
  if (!r) return r.error();
  return compile_dfa(r.value(), options);
}

std::optional<DfaTable> build_union(std::span<const Regex* const> regexes,
                                    const DfaOptions& options) {
  if (regexes.empty()) return std::nullopt;
  detail::SubsetStatus status{};
  return build(regexes, options, status);
}

}  // namespace dnspc::regex
