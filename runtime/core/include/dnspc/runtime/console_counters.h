// The console's counters (docs/console.md). The console runs on the main
// loop, where the metrics are rendered too: one set; MetricsContext points
// at it (null: no console, every sample 0).
#pragma once

#include "dnspc/runtime/counter.h"

namespace dnspc::runtime {

struct ConsoleCounters {
  // Connections closed before a session: a hello with a wrong key (or none:
  // not our magic), a hello that did not come in time, a client outside
  // console_acl, past the limits of connections or sessions.
  Counter refused_bad_key, refused_bad_hello, refused_timeout, refused_acl, refused_limit;
  // Sessions ended for a frame that was over the cap or did not open
  // (tampered, replayed, reordered).
  Counter frames_refused;
  // Lines run, and of those the ones that ended in a Lua error.
  Counter lines, line_errors;
  Counter sessions_open;
};

}  // namespace dnspc::runtime
