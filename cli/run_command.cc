// `dnspc run [--log-format text|json] [--control PATH] POLICY`: compile the
// policy exactly as `check` does, refuse it on errors (same diagnostics) or
// when it calls Lua, then run the load balancer in the foreground.
#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "command.h"
#include "dnspc/jit/native.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/bridge.h"
#include "dnspc/runtime/runtime.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc run [--log-format text|json] [--control PATH] [--no-jit] POLICY\n";

}  // namespace

int run_run(std::span<char* const> args) {
  std::string log_format = "text";
  std::string control;
  std::string policy_path;
  bool use_jit = true;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--no-jit") {
      use_jit = false;  // the C++ optimised evaluator: same verdicts, for diagnosis
    } else if (a == "--log-format" && i + 1 < args.size()) {
      log_format = args[++i];
    } else if (a.starts_with("--log-format=")) {
      log_format = std::string(a.substr(13));
    } else if (a == "--control" && i + 1 < args.size()) {
      control = args[++i];
    } else if (a.starts_with("--control=")) {
      control = std::string(a.substr(10));
    } else if (a.starts_with("-") && a != "-") {
      fmt::print(stderr, "dnspc run: unknown option '{}'\n{}", a, kUsage);
      return kExitUsage;
    } else if (policy_path.empty()) {
      policy_path = a;
    } else {
      fmt::print(stderr, "dnspc run: one policy only ('{}' and '{}')\n{}", policy_path, a, kUsage);
      return kExitUsage;
    }
  }
  if (log_format != "text" && log_format != "json") {
    fmt::print(stderr, "dnspc run: --log-format takes text or json, not '{}'\n", log_format);
    return kExitUsage;
  }
  if (policy_path.empty()) {
    fmt::print(stderr, "dnspc run: missing the policy\n{}", kUsage);
    return kExitUsage;
  }
  runtime::set_log_format(log_format == "json" ? runtime::LogFormat::kJson : runtime::LogFormat::kText);

  // Exactly what `check` accepts, with its diagnostics rendered the same way.
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  pipeline::CompileResult compiled = pipeline::compile_file(policy_path, diags);
  if (compiled.status == frontend::LoadStatus::kUnreadable) {
    runtime::log(runtime::LogLevel::kError, "cannot read the policy", {{"reason", compiled.io_error}});
    return kExitInternal;
  }
  diags.sort();
  if (log_format == "json") {
    if (diags.error_count() + diags.warning_count() > 0) fmt::print(stderr, "{}", diag::render_json(diags));
  } else {
    bool color = isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
    fmt::print(stderr, "{}", diag::render_text(diags, color));
  }
  if (!compiled.policy || diags.has_errors()) {
    runtime::log(runtime::LogLevel::kError, "the policy has errors; not started", {{"policy", policy_path}});
    return kExitBadInput;
  }
  std::string lua = runtime_bridge::lua_refusal(compiled.policy->model);
  if (!lua.empty()) {
    runtime::log(runtime::LogLevel::kError, lua, {{"policy", policy_path}});
    return kExitBadInput;
  }
  auto policy = std::make_shared<const pipeline::CompiledPolicy>(std::move(*compiled.policy));
  std::string error;
  std::unique_ptr<jit::Engine> engine;
  if (use_jit) {
    engine = jit::Engine::create(error);
    if (!engine) {
      runtime::log(runtime::LogLevel::kError, "cannot start the JIT", {{"reason", error}});
      return kExitInternal;
    }
  }
  std::shared_ptr<runtime::PolicyImage> image = runtime_bridge::make_image(policy, policy_path, engine.get(), error);
  if (!image) {
    runtime::log(runtime::LogLevel::kError, "cannot compile the policy to native code", {{"reason", error}});
    return kExitInternal;
  }
  runtime::RunOptions options;
  options.control_path = control;
  return runtime::run(std::move(image), options);
}

}  // namespace dnspc::cli
