#include "control_args.h"

#include <fmt/core.h>

#include "dnspc/runtime/runtime.h"

namespace dnspc::cli {

bool parse_control_args(std::span<char* const> args, std::string_view name, std::string_view what,
                        const char* usage, ControlArgs& out, bool several) {
  out.control = runtime::kDefaultControlPath;
  out.positional.clear();
  out.more.clear();
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--control" && i + 1 < args.size()) {
      out.control = args[++i];
    } else if (a.starts_with("--control=")) {
      out.control = std::string(a.substr(10));
    } else if (several && !out.positional.empty()) {
      out.more.emplace_back(a);  // the command's own arguments, options included (`top ... --labels 2`)
    } else if (a.starts_with("-")) {
      fmt::print(stderr, "dnspc {}: unknown option '{}'\n{}", name, a, usage);
      return false;
    } else if (out.positional.empty()) {
      out.positional = a;
    } else if (several) {
      out.more.emplace_back(a);
    } else {
      fmt::print(stderr, "dnspc {}: one {} only ('{}' and '{}')\n{}", name, what, out.positional, a, usage);
      return false;
    }
  }
  return true;
}

}  // namespace dnspc::cli
