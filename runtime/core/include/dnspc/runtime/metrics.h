// The metrics table: every metric once, with its name, type, unit, help and
// how to read it from the registry (summed over the workers). Renderers
// walk the table: Prometheus text exposition now (`dnspc ctl metrics`);
// the control socket's JSON, the console and the web page are to move onto
// it (docs/runtime.md, "Metrics").
//
// Prometheus conventions: `dnspc_` prefix, `_total` for counters, base
// units (`_seconds`, `_bytes`), labels from a fixed set (pool, server,
// rule, rcode, transport, action, reason, source, result) and never a query
// name or a client address as a label.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnspc/runtime/latency_histogram.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

enum class MetricType { kCounter, kGauge, kHistogram };

using Labels = std::vector<std::pair<const char*, std::string>>;

// What a metric's reader reports: plain values, or histograms.
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void value(const Labels& labels, double v) = 0;
  virtual void histogram(const Labels& labels, const LatencySnapshot& s) = 0;
};

struct MetricsContext {
  const Registry* registry = nullptr;
  double uptime_s = 0;
  uint64_t reloads = 0, reload_failures = 0;
  const char* version = "";
};

struct MetricDef {
  const char* name;  // without the dnspc_ prefix, with its unit and _total
  MetricType type;
  const char* help;
  std::function<void(const MetricsContext&, MetricSink&)> read;
};

const std::vector<MetricDef>& metric_table();

// The Prometheus text exposition format (version 0.0.4).
std::string prometheus_text(const MetricsContext& c);

// A label value escaped for the exposition format (\\, \", \n).
std::string escape_label_value(std::string_view v);

}  // namespace dnspc::runtime
