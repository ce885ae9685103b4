// The metrics table: every metric dnspc reports, once, with its name, type,
// unit, help, label names, how to read it from the registry (summed over the
// workers) and where it sits in the `stats` JSON document. Renderers walk the
// table: Prometheus text (`dnspc ctl metrics`), the `stats` document
// (stats.cc through metrics_json.h) and an aligned text table (the console);
// so a counter added to the registry is described here and nowhere else
// (docs/runtime.md, "Metrics").
//
// Prometheus conventions: `dnspc_` prefix, `_total` for counters, base
// units (`_seconds`, `_bytes`), labels from a fixed set (kMetricLabels) and
// never a query name or a client address as a label.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnspc/runtime/latency_histogram.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

struct ActivePolicy;
struct WebCounters;
struct ConsoleCounters;

enum class MetricType { kCounter, kGauge, kHistogram };

// Label names a metric may carry. `version` is build_info's only.
inline constexpr const char* kMetricLabels[] = {"pool",   "server", "rule",   "tag",    "rcode", "transport",
                                                "action", "reason", "source", "result", "hook",   "budget", "code",
                                                "path",   "version"};

using Labels = std::vector<std::pair<const char*, std::string>>;

// What a metric's reader reports. Integers stay integers (the JSON document
// keeps them so); `real` is for what is not a count (uptime).
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void integer(const Labels& labels, uint64_t v) = 0;
  virtual void real(const Labels& labels, double v) = 0;
  virtual void histogram(const Labels& labels, const LatencySnapshot& s) = 0;
};

// The last reload, for `stats` ("last_reload") and reloads_total.
struct ReloadSummary {
  bool any = false;
  bool ok = false;
  std::string time, message, diagnostics;
  double compile_ms = 0, swap_ms = 0;
  uint64_t total = 0, failed = 0;
};

// What the readers and the control documents read; owned by the main
// thread, refreshed (uptime, last reload) before each rendering.
struct MetricsContext {
  const Registry* registry = nullptr;
  const ActivePolicy* policy = nullptr;
  double uptime_s = 0;
  // Source ports of every worker's sockets toward each server (registry id).
  std::vector<std::vector<uint16_t>> backend_ports;
  ReloadSummary last_reload;
  const char* version = "";
  const WebCounters* web = nullptr;  // null: no web server (its samples are 0)
  const ConsoleCounters* console = nullptr;  // null: no console (its samples are 0)
};

using MetricReader = std::function<void(const MetricsContext&, MetricSink&)>;

struct MetricDef {
  const char* name;  // without the dnspc_ prefix, with its unit and _total
  MetricType type;
  const char* unit;  // "", "seconds", "bytes", ...: the suffix the name ends in
  const char* help;
  std::vector<const char*> labels = {};  // the names the reader may set
  // Where each sample goes in the `stats` document: dot-separated keys, a
  // `{label}` in a key replaced by that label's value ("acl.{result}",
  // "servers.{server}.queries", "tcp.backend.backend_{reason}"); null: not
  // in the document (histograms, what only Prometheus wants).
  const char* json = nullptr;
  // Prometheus and the text table leave zero samples out: one sample per
  // rule or tag of a large policy would swamp them; the document keeps all.
  bool sparse = false;
  // False for what only the document wants (a derived average, which
  // Prometheus computes itself from a histogram's _sum and _count).
  bool prometheus = true;
  MetricReader read;
};

const std::vector<MetricDef>& metric_table();

// The Prometheus text exposition format (version 0.0.4).
// Sparse metrics (per-rule hits) show only non-zero samples unless `all`.
std::string prometheus_text(const MetricsContext& c, bool all = false);

// Every sample as an aligned table of name, labels and value (the console).
std::string metrics_text_table(const MetricsContext& c);

// The `stats` document's keys for one sample: `tmpl` (MetricDef::json) split
// at its dots, each `{label}` replaced by that label's value (a value may
// hold dots: a server key does).
std::vector<std::string> metric_json_path(std::string_view tmpl, const Labels& labels);

// A label value escaped for the exposition format (\\, \", \n).
std::string escape_label_value(std::string_view v);

}  // namespace dnspc::runtime
