// A regex must be regular and fit the DFA state budget: check builds the very
// automaton the compiler will, so nothing check accepts can fail to load.
#include "analyzer.h"
#include "dnspc/regex/compile.h"

namespace dnspc::sema {

void Analyzer::check_regex(const std::string& pattern, diag::SourceRange range) {
  regex::DfaOptions options;
  options.state_budget = model_.options.regex_state_budget;
  auto dfa = regex::compile_regex(pattern, options);
  if (dfa) return;
  const regex::RegexError& e = dfa.error();
  // Point into the pattern itself: the policy holds it verbatim between the slashes.
  diag::SourceRange at{range.file, range.begin + e.offset, range.begin + e.offset + std::max(1u, e.length)};
  if (at.end > range.end + 1) at.end = range.end + 1;
  diags_.error("bad-regex", at, e.message);
}

}  // namespace dnspc::sema
