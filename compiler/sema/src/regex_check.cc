// A regex must be regular and fit the DFA budget: check builds the very
// automaton the compiler will, so nothing check accepts can fail to load.
// Patterns are collected during analysis and compiled at the end, in
// parallel and once per distinct pattern: at 100k rules the DFA
// constructions are a large share of `check`.
#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "analyzer.h"
#include "dnspc/regex/compile.h"
#include "dnspc/regex/literals.h"
#include "dnspc/regex/parse.h"

namespace dnspc::sema {

int Analyzer::check_regex(const std::string& pattern, diag::SourceRange range) {
  pending_regexes_.push_back({pattern, range});
  auto [it, fresh] = regex_index_.emplace(pattern, static_cast<int>(regex_index_.size()));
  return it->second;
}

void Analyzer::compile_pending_regexes() {
  // regex_index_ numbered the distinct patterns in order of first use.
  std::vector<size_t> distinct(regex_index_.size());
  for (size_t i = 0; i < pending_regexes_.size(); ++i) {
    distinct[regex_index_.at(pending_regexes_[i].pattern)] = i;
  }
  std::vector<std::optional<regex::RegexError>> errors(distinct.size());
  model_.regexes.resize(distinct.size());
  regex::DfaOptions options;
  options.state_budget = model_.options.regex_state_budget;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t k; (k = next.fetch_add(1)) < distinct.size();) {
      const std::string& pattern = pending_regexes_[distinct[k]].pattern;
      CompiledRegex& out = model_.regexes[k];
      out.pattern = pattern;
      auto ast = regex::parse_regex(pattern);
      if (!ast) {
        errors[k] = ast.error();
        continue;
      }
      auto dfa = regex::compile_dfa(ast.value(), options);
      if (!dfa) {
        errors[k] = dfa.error();
        continue;
      }
      out.dfa = std::move(dfa.value());
      regex::RegexLiterals lit = regex::extract_literals(ast.value());
      out.required = std::move(lit.required);
      out.dns_suffix = std::move(lit.dns_suffix);
    }
  };
  unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  if (distinct.size() < 64) threads = 1;
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) {
    pool.emplace_back([&] {
      if (config_.thread_start) config_.thread_start();
      work();
    });
  }
  work();
  for (auto& t : pool) t.join();

  std::unordered_map<std::string, const regex::RegexError*> failed;
  for (size_t k = 0; k < distinct.size(); ++k) {
    if (errors[k]) failed[pending_regexes_[distinct[k]].pattern] = &*errors[k];
  }
  // Every use of a bad pattern is reported at its own place.
  for (const PendingRegex& p : pending_regexes_) {
    auto it = failed.find(p.pattern);
    if (it == failed.end()) continue;
    const regex::RegexError& e = *it->second;
    // The policy holds the pattern verbatim between the slashes.
    uint32_t begin = p.range.begin + e.offset;
    uint32_t end = std::min(begin + std::max(1u, e.length), p.range.end + 1);
    diags_.error("bad-regex", {p.range.file, begin, end}, e.message);
  }
  pending_regexes_.clear();
  regex_index_.clear();
}

}  // namespace dnspc::sema
