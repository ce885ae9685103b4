// `dnspc ctl [--control PATH] COMMAND [ARG...]`: one command to a running
// instance's control socket; prints its JSON answer. The instance owns the
// table of commands (`dnspc ctl help` lists it), so a command it does not
// know is its error, not ours.
#include <fmt/core.h>
#include <rapidjson/document.h>

#include <string>

#include "command.h"
#include "control_args.h"
#include "dnspc/runtime/control_client.h"
#include "dnspc/runtime/runtime.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc ctl [--control PATH] COMMAND [ARG...]   (`dnspc ctl help` lists them)\n";

}  // namespace

int run_ctl(std::span<char* const> args) {
  ControlArgs parsed;
  if (!parse_control_args(args, "ctl", "command", kUsage, parsed, true)) return kExitUsage;
  if (parsed.positional.empty()) {
    fmt::print(stderr, "dnspc ctl: missing the command\n{}", kUsage);
    return kExitUsage;
  }
  std::string command = parsed.positional;
  for (const std::string& a : parsed.more) command += " " + a;
  std::string error;
  std::optional<std::string> answer = runtime::control_request(parsed.control, command, error);
  if (!answer) {
    fmt::print(stderr, "dnspc ctl: {}\n", error);
    return kExitInternal;
  }
  fmt::print("{}", *answer);
  if (answer->empty() || answer->back() != '\n') fmt::print("\n");
  // `metrics` answers Prometheus text; every other command an object, and a
  // refusal is one with "error".
  if (parsed.positional == "metrics" && !answer->starts_with("{")) return kExitOk;
  rapidjson::Document d;
  d.Parse(answer->c_str());
  if (d.HasParseError() || !d.IsObject()) {
    fmt::print(stderr, "dnspc ctl: unexpected answer from the control socket\n");
    return kExitInternal;
  }
  auto it = d.FindMember("error");
  if (it != d.MemberEnd()) {
    fmt::print(stderr, "dnspc ctl: {}\n", it->value.IsString() ? it->value.GetString() : "refused");
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace dnspc::cli
