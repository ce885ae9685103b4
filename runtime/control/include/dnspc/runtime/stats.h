// The control socket's JSON documents, summed over the workers' counters.
// Their numbers come from the metrics table (metrics.h), which says where
// each one goes.
#pragma once

#include <string>

#include "dnspc/runtime/metrics.h"

namespace dnspc::runtime {

// Every counter: `dnspc ctl stats`.
std::string stats_json(const MetricsContext& c);
// Server states and figures: `dnspc ctl servers`.
std::string servers_json(const MetricsContext& c);
// Backend answer latency distributions: `dnspc ctl latency` (latency_stats.cc).
std::string latency_json(const MetricsContext& c);

}  // namespace dnspc::runtime
