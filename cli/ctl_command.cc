// `dnspc ctl [--control PATH] stats|servers|blocks`: one command to a running
// instance's control socket; prints its JSON answer.
#include <fmt/core.h>

#include <string>

#include "command.h"
#include "dnspc/runtime/control_client.h"
#include "dnspc/runtime/runtime.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc ctl [--control PATH] stats|servers|blocks\n";

}  // namespace

int run_ctl(std::span<char* const> args) {
  std::string control = runtime::kDefaultControlPath;
  std::string command;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--control" && i + 1 < args.size()) {
      control = args[++i];
    } else if (a.starts_with("--control=")) {
      control = std::string(a.substr(10));
    } else if (a.starts_with("-")) {
      fmt::print(stderr, "dnspc ctl: unknown option '{}'\n{}", a, kUsage);
      return kExitUsage;
    } else if (command.empty()) {
      command = a;
    } else {
      fmt::print(stderr, "dnspc ctl: one command only\n{}", kUsage);
      return kExitUsage;
    }
  }
  if (command != "stats" && command != "servers" && command != "blocks") {
    fmt::print(stderr, "dnspc ctl: {}\n{}",
               command.empty() ? "missing the command" : "unknown command '" + command + "'", kUsage);
    return kExitUsage;
  }
  std::string error;
  std::optional<std::string> answer = runtime::control_request(control, command, error);
  if (!answer) {
    fmt::print(stderr, "dnspc ctl: {}\n", error);
    return kExitInternal;
  }
  fmt::print("{}", *answer);
  if (answer->empty() || answer->back() != '\n') fmt::print("\n");
  return kExitOk;
}

}  // namespace dnspc::cli
