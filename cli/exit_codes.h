// Exit codes of every dnspc subcommand (docs/cli.md).
#pragma once

namespace dnspc::cli {

enum ExitCode : int {
  kExitOk = 0,        // success (warnings allowed)
  kExitBadInput = 1,  // the policy, case file or query was rejected
  kExitUsage = 2,     // wrong arguments, or a subcommand not built yet
  kExitInternal = 3,  // I/O or internal error
};

}  // namespace dnspc::cli
