// The XDP tests need the kernel: as root (or CAP_BPF + CAP_NET_ADMIN) with
// BPF available. Otherwise every test case exits 77, which CTest reports as
// skipped (SKIP_RETURN_CODE), after printing why. Catch2 v2 has no skip of
// its own; CTest runs one test case per process, so the exit skips just it.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "dnspc/runtime/xdp.h"

int main(int argc, char** argv) {
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const Catch::ConfigData& config = session.configData();
  bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                 config.listReporters || config.showHelp;
  if (!listing) {
    std::string problem = dnspc::xdp::support_problem();
    if (!problem.empty()) {
      std::printf("SKIPPED: %s\n", problem.c_str());
      return 77;
    }
  }
  return session.run();
}
