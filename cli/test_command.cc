// `dnspc test [--interpreter] POLICY CASES...`: run query cases through a
// policy under virtual time and compare the verdicts (docs/test-cases.md).
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "dnspc/cases/case_file.h"
#include "dnspc/cases/runner.h"
#include "dnspc/pipeline/pipeline.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc test [--interpreter] POLICY CASES...\n";

}  // namespace

int run_test(std::span<char* const> args) {
  bool interpreter = false;
  std::vector<std::string> files;
  for (std::string_view a : args) {
    if (a == "--interpreter") {
      interpreter = true;
    } else if (a.starts_with("-") && a != "-") {
      fmt::print(stderr, "dnspc test: unknown option '{}'\n{}", a, kUsage);
      return kExitUsage;
    } else {
      files.emplace_back(a);
    }
  }
  if (files.size() < 2) {
    fmt::print(stderr, "dnspc test: {}\n{}",
               files.empty() ? "missing the policy and its case files" : "missing the case files", kUsage);
    return kExitUsage;
  }

  // The policy: exactly what `check` accepts, diagnostics rendered the same way.
  const std::string& policy_path = files.front();
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  pipeline::CompileResult compiled = pipeline::compile_file(policy_path, diags);
  if (compiled.status == frontend::LoadStatus::kUnreadable) {
    fmt::print(stderr, "dnspc test: {}\n", compiled.io_error);
    return kExitInternal;
  }
  diags.sort();
  bool color = isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
  fmt::print(stderr, "{}", diag::render_text(diags, color));
  if (!compiled.policy || diags.has_errors()) {
    fmt::print(stderr, "dnspc test: {}: the policy has errors; no case was run\n", policy_path);
    return kExitBadInput;
  }
  const pipeline::CompiledPolicy& policy = *compiled.policy;
  if (auto reason = cases::unsupported_reason(policy.reference)) {
    fmt::print(stderr, "dnspc test: {}: {}\n", policy_path, *reason);
    return kExitBadInput;
  }

  cases::Evaluator evaluator = interpreter ? cases::Evaluator::kInterpreter : cases::Evaluator::kOptimized;
  bool unreadable = false, bad_input = false, failed = false;
  for (size_t f = 1; f < files.size(); ++f) {
    std::string io_error;
    std::optional<cases::ParseResult> parsed = cases::load_cases(files[f], io_error);
    if (!parsed) {
      fmt::print(stderr, "dnspc test: {}\n", io_error);
      unreadable = true;
      continue;
    }
    cases::BindResult bound = cases::bind_cases(parsed->file, policy);
    // Syntax errors and errors against the policy, in line order.
    std::vector<cases::CaseError> errors = parsed->errors;
    errors.insert(errors.end(), bound.errors.begin(), bound.errors.end());
    std::stable_sort(errors.begin(), errors.end(),
                     [](const cases::CaseError& a, const cases::CaseError& b) { return a.line < b.line; });
    for (const cases::CaseError& e : errors) fmt::print(stderr, "{}\n", e.to_string());
    if (!errors.empty()) {
      fmt::print(stderr, "{}: {} error{} in the case file; none of its cases was run\n", files[f],
                 errors.size(), errors.size() == 1 ? "" : "s");
      bad_input = true;
      continue;
    }
    cases::RunResult r = cases::run_cases(policy, bound, evaluator);
    for (const std::string& line : r.failures) fmt::print("{}\n", line);
    fmt::print("{}: {} passed, {} failed ({} quer{}, {})\n", files[f], r.passed, r.failed, r.queries,
               r.queries == 1 ? "y" : "ies", interpreter ? "reference interpreter" : "optimised evaluator");
    if (r.failed > 0) failed = true;
  }
  if (unreadable) return kExitInternal;
  if (bad_input || failed) return kExitBadInput;
  return kExitOk;
}

}  // namespace dnspc::cli
