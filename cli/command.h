// A subcommand of the dnspc binary.
#pragma once

#include <span>
#include <string_view>

namespace dnspc::cli {

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `dnspc --help`
  std::string_view usage;    // full text for `dnspc NAME --help`
  // Null while the subcommand is not built: it then says so and exits 2.
  int (*run)(std::span<char* const> args);
  std::string_view planned_in;  // where the missing subcommand will come from
};

std::span<const Command> commands();

}  // namespace dnspc::cli
