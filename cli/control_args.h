// The arguments `dnspc ctl` and `dnspc reload` share: `--control PATH` (or
// `--control=PATH`, default the runtime's path) and at most one positional
// argument (the command, the policy file).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace dnspc::cli {

struct ControlArgs {
  std::string control;
  std::string positional;  // empty when none was given
};

// False after printing the problem and `usage` to stderr as "dnspc NAME: ...".
// `what`: the positional's name in the "one ... only" message.
bool parse_control_args(std::span<char* const> args, std::string_view name, std::string_view what,
                        const char* usage, ControlArgs& out);

}  // namespace dnspc::cli
