#include "dnspc/runtime/metrics.h"

#include <fmt/format.h>

#include <cmath>

#include "dnspc/dns_names.h"
#include "dnspc/verdict.h"
#include "dnspc/wire.h"
#include "dnspc/runtime/traffic_ring.h"

namespace dnspc::runtime {

namespace {

template <class F>
double sum_workers(const Registry& r, F f) {
  uint64_t total = 0;
  for (unsigned w = 0; w < r.worker_count(); ++w) total += f(r.worker(w)).get();
  return static_cast<double>(total);
}

template <class F>
double sum_server(const Registry& r, uint32_t id, F f) {
  uint64_t total = 0;
  for (unsigned w = 0; w < r.worker_count(); ++w) total += f(r.worker(w).servers[id]).get();
  return static_cast<double>(total);
}

Labels server_labels(const ServerEntry& e) { return {{"pool", e.pool}, {"server", e.key}}; }

// A per-server counter or gauge: one sample per live server.
MetricDef per_server(const char* name, MetricType type, const char* help, const Counter& (*field)(const ServerCounters&)) {
  return {name, type, help, [field](const MetricsContext& c, MetricSink& out) {
            const Registry& r = *c.registry;
            for (uint32_t id = 0; id < r.server_count(); ++id) {
              const ServerEntry& e = r.server(id);
              if (e.live) out.value(server_labels(e), sum_server(r, id, field));
            }
          }};
}

// A plain per-worker counter summed.
MetricDef total(const char* name, const char* help, const Counter& (*field)(const WorkerCounters&)) {
  return {name, MetricType::kCounter, help,
          [field](const MetricsContext& c, MetricSink& out) { out.value({}, sum_workers(*c.registry, field)); }};
}

std::vector<MetricDef> make_table() {
  std::vector<MetricDef> t;
  t.push_back({"build_info", MetricType::kGauge, "Always 1; the version is a label.",
               [](const MetricsContext& c, MetricSink& out) { out.value({{"version", c.version}}, 1); }});
  t.push_back({"uptime_seconds", MetricType::kGauge, "Seconds since dnspc run started.",
               [](const MetricsContext& c, MetricSink& out) { out.value({}, c.uptime_s); }});
  t.push_back({"workers", MetricType::kGauge, "Worker threads.",
               [](const MetricsContext& c, MetricSink& out) { out.value({}, c.registry->worker_count()); }});
  t.push_back({"queries_total", MetricType::kCounter, "Queries decided (UDP and TCP), by the verdict's action.",
               [](const MetricsContext& c, MetricSink& out) {
                 for (unsigned a = 0; a < kActionKindCount; ++a) {
                   out.value({{"action", action_kind_name(static_cast<ActionKind>(a))}},
                             sum_workers(*c.registry, [a](const WorkerCounters& w) -> const Counter& { return w.actions[a]; }));
                 }
               }});
  t.push_back({"malformed_queries_total", MetricType::kCounter, "Packets on a listener that are not a query dnspc can decide, by reason.",
               [](const MetricsContext& c, MetricSink& out) {
                 for (unsigned e = 1; e < kParseErrorCount; ++e) {
                   out.value({{"reason", parse_error_name(static_cast<ParseError>(e))}},
                             sum_workers(*c.registry, [e](const WorkerCounters& w) -> const Counter& { return w.malformed[e]; }));
                 }
                 out.value({{"reason", "oversized"}},
                           sum_workers(*c.registry, [](const WorkerCounters& w) -> const Counter& { return w.oversized; }));
               }});
  t.push_back({"acl_total", MetricType::kCounter, "Queries from outside the ACL, by what was done.",
               [](const MetricsContext& c, MetricSink& out) {
                 out.value({{"result", "refused"}}, sum_workers(*c.registry, [](const WorkerCounters& w) -> const Counter& { return w.acl_refused; }));
                 out.value({{"result", "dropped"}}, sum_workers(*c.registry, [](const WorkerCounters& w) -> const Counter& { return w.acl_dropped; }));
               }});
  t.push_back({"answers_total", MetricType::kCounter, "Answers sent to clients, by where they came from.",
               [](const MetricsContext& c, MetricSink& out) {
                 const char* names[] = {"backend", "local", "timeout"};
                 for (unsigned s = 0; s < 3; ++s) {
                   out.value({{"source", names[s]}},
                             sum_workers(*c.registry, [s](const WorkerCounters& w) -> const Counter& { return w.answers_by_source[s]; }));
                 }
               }});
  t.push_back({"answers_by_rcode_total", MetricType::kCounter, "Answers sent to clients, by the rcode in their header.",
               [](const MetricsContext& c, MetricSink& out) {
                 for (unsigned r = 0; r < 16; ++r) {
                   double v = sum_workers(*c.registry, [r](const WorkerCounters& w) -> const Counter& { return w.answer_rcodes[r]; });
                   if (v > 0 || r <= 5) out.value({{"rcode", rcode_name(static_cast<uint8_t>(r))}}, v);
                 }
               }});
  t.push_back(total("forwarded_total", "Queries forwarded to a backend.",
                    [](const WorkerCounters& w) -> const Counter& { return w.forwarded; }));
  t.push_back({"no_server_total", MetricType::kCounter, "Queries whose pool had no usable server, by what was done.",
               [](const MetricsContext& c, MetricSink& out) {
                 out.value({{"result", "dropped"}}, sum_workers(*c.registry, [](const WorkerCounters& w) -> const Counter& { return w.no_server_dropped; }));
                 out.value({{"result", "servfail"}}, sum_workers(*c.registry, [](const WorkerCounters& w) -> const Counter& { return w.no_server_servfail; }));
               }});
  t.push_back(total("udp_timeouts_total", "UDP queries whose backend did not answer within udp_timeout.",
                    [](const WorkerCounters& w) -> const Counter& { return w.timeouts; }));
  t.push_back(total("tcp_connections_accepted_total", "TCP client connections accepted.",
                    [](const WorkerCounters& w) -> const Counter& { return w.tcp.accepted; }));
  t.push_back({"tcp_connections_open", MetricType::kGauge, "TCP client connections open now.",
               [](const MetricsContext& c, MetricSink& out) {
                 out.value({}, sum_workers(*c.registry, [](const WorkerCounters& w) -> const Counter& { return w.tcp.open; }));
               }});
  t.push_back({"reloads_total", MetricType::kCounter, "Policy reloads, by result.",
               [](const MetricsContext& c, MetricSink& out) {
                 out.value({{"result", "ok"}}, static_cast<double>(c.reloads - c.reload_failures));
                 out.value({{"result", "failed"}}, static_cast<double>(c.reload_failures));
               }});
  t.push_back(per_server("backend_queries_total", MetricType::kCounter, "Queries forwarded to the server.",
                         [](const ServerCounters& s) -> const Counter& { return s.queries; }));
  t.push_back(per_server("backend_answers_total", MetricType::kCounter, "Answers accepted from the server.",
                         [](const ServerCounters& s) -> const Counter& { return s.answers; }));
  t.push_back(per_server("backend_timeouts_total", MetricType::kCounter, "UDP queries to the server that timed out.",
                         [](const ServerCounters& s) -> const Counter& { return s.timeouts; }));
  t.push_back(per_server("backend_outstanding", MetricType::kGauge, "Queries in flight to the server now.",
                         [](const ServerCounters& s) -> const Counter& { return s.outstanding; }));
  t.push_back({"backend_up", MetricType::kGauge, "1 when the server is up (health checks), else 0.",
               [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.server_count(); ++id) {
                   const ServerEntry& e = r.server(id);
                   if (e.live) out.value(server_labels(e), e.up.load(std::memory_order_relaxed) ? 1 : 0);
                 }
               }});
  t.push_back({"backend_latency_seconds", MetricType::kHistogram, "Latency of the server's accepted answers.",
               [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.server_count(); ++id) {
                   const ServerEntry& e = r.server(id);
                   if (!e.live) continue;
                   LatencySnapshot s;
                   for (unsigned w = 0; w < r.worker_count(); ++w) s.add(r.worker(w).servers[id].latency);
                   out.histogram(server_labels(e), s);
                 }
               }});
  t.push_back({"answer_latency_seconds", MetricType::kHistogram, "Latency of accepted backend answers, by the client's transport.",
               [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 LatencySnapshot udp, tcp;
                 for (unsigned w = 0; w < r.worker_count(); ++w) {
                   udp.add(r.worker(w).latency_udp);
                   tcp.add(r.worker(w).latency_tcp);
                 }
                 out.histogram({{"transport", "udp"}}, udp);
                 out.histogram({{"transport", "tcp"}}, tcp);
               }});
  t.push_back({"rule_hits_total", MetricType::kCounter, "Queries each rule decided (rules with hits only).",
               [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.rule_count(); ++id) {
                   double v = sum_workers(r, [id](const WorkerCounters& w) -> const Counter& { return w.rule_hits[id]; });
                   if (v > 0) out.value({{"rule", r.rule_name(id)}}, v);
                 }
               }});
  return t;
}

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

class PrometheusSink : public MetricSink {
 public:
  PrometheusSink(std::string& out, const std::string& name) : out_(out), name_(name) {}

  void value(const Labels& labels, double v) override { line(name_, labels, nullptr, number(v)); }

  void histogram(const Labels& labels, const LatencySnapshot& s) override {
    uint64_t cumulative = 0;
    for (unsigned b = 0; b < LatencyBuckets::kBounds; ++b) {
      cumulative += s.counts[b];
      line(name_ + "_bucket", labels, number(static_cast<double>(LatencyBuckets::upper_us(b)) / 1e6).c_str(),
           number(static_cast<double>(cumulative)));
    }
    line(name_ + "_bucket", labels, "+Inf", number(static_cast<double>(s.count)));
    line(name_ + "_sum", labels, nullptr, number(static_cast<double>(s.sum_us) / 1e6));
    line(name_ + "_count", labels, nullptr, number(static_cast<double>(s.count)));
  }

 private:
  void line(const std::string& name, const Labels& labels, const char* le, const std::string& v) {
    out_ += name;
    if (!labels.empty() || le) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, val] : labels) {
        out_ += fmt::format("{}{}=\"{}\"", first ? "" : ",", k, escape_label_value(val));
        first = false;
      }
      if (le) out_ += fmt::format("{}le=\"{}\"", first ? "" : ",", le);
      out_ += '}';
    }
    out_ += ' ';
    out_ += v;
    out_ += '\n';
  }

  std::string& out_;
  const std::string& name_;
};

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

const std::vector<MetricDef>& metric_table() {
  static const std::vector<MetricDef> table = make_table();
  return table;
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string prometheus_text(const MetricsContext& c) {
  std::string out;
  for (const MetricDef& m : metric_table()) {
    std::string name = std::string("dnspc_") + m.name;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, m.help, name, type_name(m.type));
    PrometheusSink sink(out, name);
    m.read(c, sink);
  }
  return out;
}

}  // namespace dnspc::runtime
