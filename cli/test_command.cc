// `dnspc test [--interpreter | --optimised] POLICY CASES...`: run query
// cases through a policy under virtual time and compare the verdicts
// (docs/test-cases.md). By default the policy runs as native code (the JIT,
// docs/jit.md); --interpreter runs the reference interpreter (the oracle),
// --optimised the C++ evaluator of the optimised structure.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "dnspc/cases/case_file.h"
#include "dnspc/cases/runner.h"
#include "dnspc/dns_names.h"
#include "dnspc/ir/state.h"
#include "dnspc/jit/native.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"
#include "exit_codes.h"

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

// As cases::describe_query (runner.cc) shows a query in failures.
std::string describe_query(const cases::Case& c, const QueryView& view, uint64_t now_ns) {
  char text[kMaxNameLength + 2];
  size_t len = qname_text(view, text, sizeof text);
  std::string out = fmt::format("{} {}", std::string_view(text, len), qtype_name(c.query.qtype));
  switch (c.query.qclass) {
    case 1:
      break;
    case 3:
      out += " CH";
      break;
    case 4:
      out += " HS";
      break;
    case 254:
      out += " NONE";
      break;
    case 255:
      out += " ANY";
      break;
    default:
      out += " CLASS" + std::to_string(c.query.qclass);
      break;
  }
  const NetAddress& src = c.query.source;
  out += " from " + src.to_string(src.port != cases::default_source().port);
  if (c.query.transport == Transport::kTcp) out += " over tcp";
  if (now_ns != 0) out += " at " + cases::format_time(now_ns);
  return out;
}

// cases::run_cases with the native code deciding: the same order, state,
// virtual time and failure lines.
cases::RunResult run_native(const jit::NativePolicy& native, const cases::BindResult& bound) {
  cases::RunResult result;
  const ir::Program& program = native.policy().program;
  ir::ProgramState state(program);
  state.reserve_scratch(native.scratch_words());
  QueryView view;
  for (const cases::BoundCase& b : bound.cases) {
    const cases::Case& c = *b.source;
    struct Run {
      uint32_t first = 0, last = 0;
      uint32_t expected = 0;
      Verdict got;
      std::string query;
    };
    std::vector<Run> runs;
    std::string rejected;
    uint32_t rep = 0;
    for (const cases::BoundExpectation& e : b.expect) {
      for (uint32_t k = 0; k < e.count; ++k, ++rep) {
        const uint64_t now = c.time_of(rep);
        ParseError pe = parse_query(b.packet.data(), b.packet.size(), c.query.transport, view);
        if (pe != ParseError::kOk) {
          rejected = parse_error_name(pe);
          break;
        }
        view.source = c.query.source;
        view.destination = b.destination;
        const Verdict v = native.decide(view, state.for_query(now));
        ++result.queries;
        if (v == program.verdict_of(e.rule)) continue;
        if (!runs.empty() && runs.back().last + 1 == rep && runs.back().expected == e.rule &&
            runs.back().got == v) {
          runs.back().last = rep;
        } else {
          runs.push_back({rep, rep, e.rule, v, describe_query(c, view, now)});
        }
      }
      if (!rejected.empty()) break;
    }
    if (!rejected.empty()) {
      ++result.failed;
      result.failures.push_back(
          fmt::format("{}:{}: the codec rejected the query ({}); nothing was decided", bound.path,
                      c.line, rejected));
      continue;
    }
    if (runs.empty()) {
      ++result.passed;
      continue;
    }
    ++result.failed;
    for (const Run& r : runs) {
      std::string which;
      if (c.repeat > 1) {
        which = r.first == r.last
                    ? fmt::format("repetition {} of {}: ", r.first + 1, c.repeat)
                    : fmt::format("repetitions {}-{} of {}: ", r.first + 1, r.last + 1, c.repeat);
      }
      result.failures.push_back(
          fmt::format("{}:{}: {}expected {}, got {} for {}", bound.path, c.line, which,
                      cases::describe_verdict(program, program.verdict_of(r.expected)),
                      cases::describe_verdict(program, r.got), r.query));
    }
  }
  return result;
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
  if (auto reason = cases::unsupported_reason(policy.reference)) {
    fmt::print(stderr, "dnspc test: {}: {}\n", policy_path, *reason);
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
  const cases::Evaluator evaluator = engine == Engine::kInterpreter ? cases::Evaluator::kInterpreter
                                                                    : cases::Evaluator::kOptimized;
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
    cases::RunResult r =
        native ? run_native(*native, bound) : cases::run_cases(policy, bound, evaluator);
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
