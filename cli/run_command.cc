// `dnspc run [--log-format text|json] [--control PATH] [--watch] POLICY`:
// compile the policy exactly as `check` does, refuse it on errors (same
// diagnostics) or when it calls Lua, then run the load balancer in the
// foreground. Reloads (SIGHUP, `dnspc reload`, --watch) go through the same
// loader, on a runtime thread.
#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "command.h"
#include "dnspc/jit/native.h"
#include "dnspc/runtime/runtime.h"
#include "exit_codes.h"
#include "policy_loader.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc run [--log-format text|json] [--control PATH] [--no-jit] [--watch] POLICY\n";

}  // namespace

int run_run(std::span<char* const> args) {
  std::string log_format = "text";
  std::string control;
  std::string policy_path;
  bool use_jit = true;
  bool watch = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--watch") {
      watch = true;  // reload when the file changes
    } else if (a == "--no-jit") {
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

  std::string error;
  // One engine for the process: reloads compile on it too (from a runtime
  // thread); a policy's native code outlives it if need be.
  std::shared_ptr<jit::Engine> engine;
  if (use_jit) {
    engine = jit::Engine::create(error);
    if (!engine) {
      runtime::log(runtime::LogLevel::kError, "cannot start the JIT", {{"reason", error}});
      return kExitInternal;
    }
  }
  // Exactly what `check` accepts, with its diagnostics rendered the same way.
  const bool json = log_format == "json";
  const bool color = isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
  LoadedPolicy loaded = load_policy(policy_path, engine.get(), json, color);
  loaded.result.leftovers.reset();  // `loaded` lives as long as the process
  fmt::print(stderr, "{}", loaded.result.diagnostics);
  if (!loaded.result.image) {
    // The messages `run` has always given (tests and scripts match them).
    std::string message = loaded.result.error;
    if (message.starts_with("the policy has ")) message = "the policy has errors; not started";
    runtime::log(runtime::LogLevel::kError, message, {{"policy", policy_path}});
    return loaded.exit_code;
  }
  runtime::RunOptions options;
  options.control_path = control;
  options.watch = watch;
  options.loader = [engine, json](const std::string& path, const std::atomic<bool>& cancel) {
    return load_policy(path, engine.get(), json, false, &cancel).result;
  };
  return runtime::run(std::move(loaded.result.image), options);
}

}  // namespace dnspc::cli
