// `dnspc test [--interpreter | --optimised] POLICY CASES...`: run query
// cases through a policy under virtual time and compare the verdicts
// (docs/test-cases.md). By default the policy runs as native code (the JIT,
// docs/jit.md); --interpreter runs the reference interpreter (the oracle),
// --optimised the C++ evaluator of the optimised structure.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "dnspc/cases/case_file.h"
#include "dnspc/cases/runner.h"
#include "dnspc/diag/read_file.h"
#include "dnspc/dns_names.h"
#include "dnspc/ir/state.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/jit/native.h"
#include "dnspc/lua/hook_runtime.h"
#include "dnspc/opt/index.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"
#include "exit_codes.h"
#include "offline_lua.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc test [--interpreter | --optimised] POLICY CASES...\n";

enum class Engine { kNative, kInterpreter, kOptimised };

const char* engine_name(Engine e) {
  switch (e) {
    case Engine::kNative:
      return "native code";
    case Engine::kInterpreter:
      return "reference interpreter";
    case Engine::kOptimised:
      return "optimised evaluator";
  }
  return "?";
}

}  // namespace

int run_test(std::span<char* const> args) {
  Engine engine = Engine::kNative;
  std::vector<std::string> files;
  for (std::string_view a : args) {
    if (a == "--interpreter" || a == "--optimised" || a == "--optimized") {
      Engine chosen = a == "--interpreter" ? Engine::kInterpreter : Engine::kOptimised;
      if (engine != Engine::kNative && engine != chosen) {
        fmt::print(stderr, "dnspc test: --interpreter and --optimised exclude each other\n{}",
                   kUsage);
        return kExitUsage;
      }
      engine = chosen;
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
  std::string lua_error;
  OfflineLua lua;
  if (!load_lua(policy, "dnspc test", lua, lua_error)) {
    fmt::print(stderr, "dnspc test: {}: {}\n", policy_path, lua_error);
    return kExitBadInput;
  }

  // Native code: compiled once for all the case files.
  std::unique_ptr<jit::Engine> jit_engine;
  std::unique_ptr<jit::NativePolicy> native;
  if (engine == Engine::kNative) {
    std::string error;
    jit_engine = jit::Engine::create(error);
    if (jit_engine) {
      // Not owned: `policy` outlives the native code.
      std::shared_ptr<const opt::OptimizedPolicy> optimized(
          std::shared_ptr<const opt::OptimizedPolicy>(), &policy.optimized);
      native = jit_engine->compile(optimized, error);
    }
    if (!native) {
      fmt::print(stderr, "dnspc test: {}: {}\n", policy_path, error);
      return kExitInternal;
    }
  }
  cases::Decider decider;
  switch (engine) {
    case Engine::kNative:
      decider.program = &native->policy().program;
      decider.decide = [&](const QueryView& v, DecisionState& st) { return native->decide(v, st); };
      decider.scratch_words = native->scratch_words();
      break;
    case Engine::kInterpreter:
      decider.program = &policy.reference;
      decider.decide = [&](const QueryView& v, DecisionState& st) { return interp::interpret(policy.reference, v, st); };
      break;
    case Engine::kOptimised:
      decider.program = &policy.optimized.program;
      decider.decide = [&](const QueryView& v, DecisionState& st) { return opt::evaluate(policy.optimized, v, st); };
      break;
  }
  bind_lua(lua, decider);
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
    cases::RunResult r = cases::run_cases(decider, bound);
    for (const std::string& line : r.failures) fmt::print("{}\n", line);
    fmt::print("{}: {} passed, {} failed ({} quer{}, {})\n", files[f], r.passed, r.failed,
               r.queries, r.queries == 1 ? "y" : "ies", engine_name(engine));
    if (r.failed > 0) failed = true;
  }
  if (unreadable) return kExitInternal;
  if (bad_input || failed) return kExitBadInput;
  return kExitOk;
}

}  // namespace dnspc::cli
