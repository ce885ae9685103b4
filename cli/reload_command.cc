// `dnspc reload [--control PATH] [FILE]`: asks a running instance to reload
// its policy (or FILE, which becomes its policy) and waits until the new one
// runs on every worker or was rejected. Prints the outcome and the
// diagnostics; exit 0 when it runs, 1 when it was rejected, 3 when the
// instance cannot be reached.
#include <fmt/core.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <string>

#include "command.h"
#include "control_args.h"
#include "dnspc/runtime/control_client.h"
#include "dnspc/runtime/runtime.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

constexpr const char* kUsage = "usage: dnspc reload [--control PATH] [FILE]\n";
// A 100k-rule policy compiles in seconds; the bound is for a wedged instance.
constexpr unsigned kReloadTimeoutMs = 600'000;

std::string string_member(const rapidjson::Document& d, const char* key) {
  auto it = d.FindMember(key);
  return it != d.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : std::string();
}

}  // namespace

int run_reload(std::span<char* const> args) {
  ControlArgs parsed;
  if (!parse_control_args(args, "reload", "policy", kUsage, parsed)) return kExitUsage;
  const std::string& control = parsed.control;
  const std::string& file = parsed.positional;
  std::string command = "reload";
  if (!file.empty()) {
    // The instance may run elsewhere: it gets the path as this shell sees it.
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(file, ec);
    command += " " + (ec ? file : absolute.lexically_normal().string());
  }
  std::string error;
  std::optional<std::string> answer =
      runtime::control_request(control, command, error, kReloadTimeoutMs);
  if (!answer) {
    fmt::print(stderr, "dnspc reload: {}\n", error);
    return kExitInternal;
  }
  if (answer->empty()) {
    fmt::print(
        stderr,
        "dnspc reload: the instance closed the connection without an answer (was it stopping?)\n");
    return kExitInternal;
  }
  rapidjson::Document d;
  d.Parse(answer->c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("ok") || !d["ok"].IsBool()) {
    fmt::print(stderr, "dnspc reload: unexpected answer from the control socket: {}\n", *answer);
    return kExitInternal;
  }
  const bool ok = d["ok"].GetBool();
  std::string diagnostics = string_member(d, "diagnostics");
  if (!diagnostics.empty()) fmt::print(stderr, "{}", diagnostics);
  std::string message = string_member(d, "message");
  if (ok) {
    double compile_ms =
        d.HasMember("compile_ms") && d["compile_ms"].IsNumber() ? d["compile_ms"].GetDouble() : 0;
    double swap_ms =
        d.HasMember("swap_ms") && d["swap_ms"].IsNumber() ? d["swap_ms"].GetDouble() : 0;
    fmt::print("{} ({}; compile {:.1f} ms, swap {:.2f} ms)\n", message, string_member(d, "policy"),
               compile_ms, swap_ms);
    return kExitOk;
  }
  fmt::print(stderr, "dnspc reload: rejected, the running policy is unchanged: {}\n", message);
  return kExitBadInput;
}

}  // namespace dnspc::cli
