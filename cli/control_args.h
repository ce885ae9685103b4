// The arguments `dnspc ctl` and `dnspc reload` share: `--control PATH` (or
// `--control=PATH`, default the runtime's path) and positional arguments: at
// most one (the policy file) unless `several` (the command and its arguments).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dnspc::cli {

struct ControlArgs {
  std::string control;
  std::string positional;  // the first, empty when none was given
  std::vector<std::string> more;  // the others, with `several`
};

// False after printing the problem and `usage` to stderr as "dnspc NAME: ...".
// `what`: the positional's name in the "one ... only" message.
bool parse_control_args(std::span<char* const> args, std::string_view name, std::string_view what,
                        const char* usage, ControlArgs& out, bool several = false);

}  // namespace dnspc::cli
