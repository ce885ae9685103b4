// `dnspc ctl [--control PATH] stats|metrics|servers|latency|series|blocks`: one command to a running
// instance's control socket; prints its JSON answer.
#include <fmt/core.h>

#include <string>

#include "command.h"
#include "control_args.h"
#include "dnspc/runtime/control_client.h"
#include "dnspc/runtime/runtime.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc ctl [--control PATH] stats|metrics|servers|latency|series|blocks\n";

}  // namespace

int run_ctl(std::span<char* const> args) {
  ControlArgs parsed;
  if (!parse_control_args(args, "ctl", "command", kUsage, parsed)) return kExitUsage;
  const std::string& control = parsed.control;
  const std::string& command = parsed.positional;
  if (command != "stats" && command != "servers" && command != "blocks" && command != "latency" && command != "series" && command != "metrics") {
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
