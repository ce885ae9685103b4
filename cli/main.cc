// dnspc: one binary, one subcommand per job.
#include <fmt/core.h>

#include <cstring>
#include <string_view>

#include "command.h"
#include "exit_codes.h"

#ifndef DNSPC_VERSION
#define DNSPC_VERSION "unknown"
#endif

namespace {

using dnspc::cli::Command;

void print_help(std::FILE* to) {
  fmt::print(to, "usage: dnspc [--version] [--help] COMMAND [ARGS...]\n\ncommands:\n");
  for (const Command& c : dnspc::cli::commands()) {
    fmt::print(to, "  {:<14} {}{}\n", c.name, c.summary, c.run ? "" : " (not built yet)");
  }
  fmt::print(to, "\n`dnspc COMMAND --help` describes one command.\n");
}

bool wants_help(std::span<char* const> args) {
  for (char* a : args) {
    if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dnspc::cli;
  if (argc < 2) {
    print_help(stderr);
    return kExitUsage;
  }
  std::string_view first = argv[1];
  if (first == "--version" || first == "version") {
    fmt::print("dnspc {}\n", DNSPC_VERSION);
    return kExitOk;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    print_help(stdout);
    return kExitOk;
  }
  for (const Command& c : commands()) {
    if (c.name != first) continue;
    std::span<char* const> args(argv + 2, static_cast<size_t>(argc - 2));
    if (wants_help(args)) {
      fmt::print("{}", c.usage);
      if (!c.run) fmt::print("(not built yet: comes with {})\n", c.planned_in);
      return kExitOk;
    }
    if (!c.run) {
      fmt::print(stderr, "dnspc: '{}' is not built yet (comes with {})\n", c.name, c.planned_in);
      return kExitUsage;
    }
    return c.run(args);
  }
  fmt::print(stderr, "dnspc: unknown command '{}'\n", first);
  print_help(stderr);
  return kExitUsage;
}
