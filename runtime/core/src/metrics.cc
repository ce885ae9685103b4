// The metrics table assembled from its topics, and the reading helpers the
// topics share. The renderers are metrics_prometheus.cc, metrics_text.cc
// and metrics_json.cc.
#include "dnspc/runtime/metrics.h"

#include "metric_defs.h"

namespace dnspc::runtime {

namespace {

std::vector<MetricDef> make_table() {
  std::vector<MetricDef> t;
  add_process_metrics(t);
  add_traffic_metrics(t);
  add_tcp_metrics(t);
  add_policy_metrics(t);
  add_kernel_metrics(t);
  add_lua_metrics(t);
  add_server_metrics(t);
  add_cache_metrics(t);
  add_web_metrics(t);
  add_console_metrics(t);
  return t;
}

}  // namespace

const std::vector<MetricDef>& metric_table() {
  static const std::vector<MetricDef> table = make_table();
  return table;
}

MetricReader sum_of(WorkerField f) {
  return [f](const MetricsContext& c, MetricSink& out) {
    out.integer({}, sum_workers(*c.registry, [f](const WorkerCounters& w) -> const Counter& { return w.*f; }));
  };
}

MetricReader sum_of(TcpField f) {
  return [f](const MetricsContext& c, MetricSink& out) {
    out.integer({}, sum_workers(*c.registry, [f](const WorkerCounters& w) -> const Counter& { return w.tcp.*f; }));
  };
}

MetricReader sum_by(const char* label, std::initializer_list<std::pair<const char*, WorkerField>> fields) {
  return [label, v = std::vector(fields)](const MetricsContext& c, MetricSink& out) {
    for (const auto& [value, f] : v) {
      out.integer({{label, value}}, sum_workers(*c.registry, [f](const WorkerCounters& w) -> const Counter& { return w.*f; }));
    }
  };
}

MetricReader sum_by(const char* label, std::initializer_list<std::pair<const char*, TcpField>> fields) {
  return [label, v = std::vector(fields)](const MetricsContext& c, MetricSink& out) {
    for (const auto& [value, f] : v) {
      out.integer({{label, value}}, sum_workers(*c.registry, [f](const WorkerCounters& w) -> const Counter& { return w.tcp.*f; }));
    }
  };
}

}  // namespace dnspc::runtime
