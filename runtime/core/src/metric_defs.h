// What the metric_defs_*.cc files share: summing a counter over the workers,
// readers for plain fields, and the functions that add each topic's entries
// to the table (in the order the `stats` document shows them).
#pragma once

#include <initializer_list>
#include <utility>
#include <vector>

#include "dnspc/runtime/metrics.h"

namespace dnspc::runtime {

template <class F>
uint64_t sum_workers(const Registry& r, F field) {
  uint64_t total = 0;
  for (unsigned w = 0; w < r.worker_count(); ++w) total += field(r.worker(w)).get();
  return total;
}

using WorkerField = Counter WorkerCounters::*;
using TcpField = Counter TcpCounters::*;
using ServerField = Counter ServerCounters::*;

// One unlabelled sample: a field summed over the workers.
MetricReader sum_of(WorkerField f);
MetricReader sum_of(TcpField f);

// One sample per label value, each a field summed over the workers.
MetricReader sum_by(const char* label, std::initializer_list<std::pair<const char*, WorkerField>> fields);
MetricReader sum_by(const char* label, std::initializer_list<std::pair<const char*, TcpField>> fields);

// Per server: shown while the policy uses it or queries to it are in flight
// (removed by a reload, not drained yet).
bool server_shown(const Registry& r, uint32_t id);
Labels server_labels(const ServerEntry& e);
uint64_t sum_server(const Registry& r, uint32_t id, ServerField f);

void add_process_metrics(std::vector<MetricDef>& t);  // metric_defs_traffic.cc
void add_traffic_metrics(std::vector<MetricDef>& t);  // metric_defs_traffic.cc
void add_tcp_metrics(std::vector<MetricDef>& t);      // metric_defs_tcp.cc
void add_policy_metrics(std::vector<MetricDef>& t);   // metric_defs_policy.cc
void add_kernel_metrics(std::vector<MetricDef>& t);   // metric_defs_kernel.cc
void add_server_metrics(std::vector<MetricDef>& t);   // metric_defs_servers.cc
void add_lua_metrics(std::vector<MetricDef>& t);      // metric_defs_lua.cc
void add_web_metrics(std::vector<MetricDef>& t);      // metric_defs_web.cc
void add_cache_metrics(std::vector<MetricDef>& t);    // metric_defs_cache.cc
void add_console_metrics(std::vector<MetricDef>& t);  // metric_defs_console.cc

}  // namespace dnspc::runtime
