// The control socket's JSON documents, summed over the workers' counters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

// The last reload, for `stats` ("last_reload").
struct ReloadSummary {
  bool any = false;
  bool ok = false;
  std::string time, message, diagnostics;
  double compile_ms = 0, swap_ms = 0;
  uint64_t total = 0, failed = 0;
};

struct StatsContext {
  const Registry* registry = nullptr;
  const ActivePolicy* policy = nullptr;
  double uptime_s = 0;
  // Source ports of every worker's sockets toward each server (registry id).
  std::vector<std::vector<uint16_t>> backend_ports;
  ReloadSummary last_reload;
};

// Every counter: `dnspc ctl stats`.
std::string stats_json(const StatsContext& c);
// Server states and figures: `dnspc ctl servers`.
std::string servers_json(const StatsContext& c);
// Backend answer latency distributions: `dnspc ctl latency` (latency_stats.cc).
std::string latency_json(const StatsContext& c);

}  // namespace dnspc::runtime
