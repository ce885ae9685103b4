// The control socket's JSON documents, summed over the workers' counters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "active_policy.h"
#include "registry.h"

namespace dnspc::runtime {

struct StatsContext {
  const Registry* registry = nullptr;
  const ActivePolicy* policy = nullptr;
  double uptime_s = 0;
  // Source ports of every worker's sockets toward each server (registry id).
  std::vector<std::vector<uint16_t>> backend_ports;
};

// Every counter: `dnspc ctl stats`.
std::string stats_json(const StatsContext& c);
// Server states and figures: `dnspc ctl servers`.
std::string servers_json(const StatsContext& c);

}  // namespace dnspc::runtime
