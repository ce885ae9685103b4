// The table's entries per backend server (ServerCounters, labelled by pool
// and server key). `ctl servers` reads the same entries (servers_json), so
// both documents show the same figures under the same keys.
#include "metric_defs.h"

namespace dnspc::runtime {

namespace {

// A per-server counter or gauge: one sample per shown server.
MetricReader per_server(ServerField f) {
  return [f](const MetricsContext& c, MetricSink& out) {
    const Registry& r = *c.registry;
    for (uint32_t id = 0; id < r.server_count(); ++id) {
      if (server_shown(r, id)) out.integer(server_labels(r.server(id)), sum_server(r, id, f));
    }
  };
}

}  // namespace

// Decided per metric: a removed server's last query can complete between two
// metrics' readings, so one reading may show part of its figures; the next
// shows none.
bool server_shown(const Registry& r, uint32_t id) {
  return r.server(id).live || sum_server(r, id, &ServerCounters::outstanding) != 0;
}

Labels server_labels(const ServerEntry& e) { return {{"pool", e.pool}, {"server", e.key}}; }

uint64_t sum_server(const Registry& r, uint32_t id, ServerField f) {
  uint64_t total = 0;
  for (unsigned w = 0; w < r.worker_count(); ++w) total += (r.worker(w).servers[id].*f).get();
  return total;
}

// ServerCounters::latency_ewma_us is left out: each worker's smoothed
// latency for its own least_outstanding ties, which a sum over workers
// does not describe (backend_latency_seconds does).
void add_server_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "backend_queries_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries forwarded to the server.",
               .labels = {"pool", "server"},
               .json = "servers.{server}.queries",
               .read = per_server(&ServerCounters::queries)});
  t.push_back({.name = "backend_answers_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Answers accepted from the server.",
               .labels = {"pool", "server"},
               .json = "servers.{server}.answers",
               .read = per_server(&ServerCounters::answers)});
  t.push_back({.name = "backend_timeouts_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries to the server that timed out (UDP and TCP).",
               .labels = {"pool", "server"},
               .json = "servers.{server}.timeouts",
               .read = per_server(&ServerCounters::timeouts)});
  t.push_back({.name = "backend_outstanding",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Queries in flight to the server now.",
               .labels = {"pool", "server"},
               .json = "servers.{server}.outstanding",
               .read = per_server(&ServerCounters::outstanding)});
  t.push_back({.name = "backend_send_errors_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP queries the kernel refused to send to the server.",
               .labels = {"pool", "server"},
               .json = "servers.{server}.send_errors",
               .read = per_server(&ServerCounters::send_errors)});
  t.push_back({.name = "backend_answers_rejected_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Messages from the server's sockets and connections that are not an answer to a query in flight, by reason.",
               .labels = {"pool", "server", "reason"},
               .json = "servers.{server}.{reason}",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const std::pair<const char*, ServerField> reasons[] = {{"wrong_source", &ServerCounters::wrong_source},
                                                                        {"unknown_id", &ServerCounters::unknown_id},
                                                                        {"mismatched", &ServerCounters::mismatched},
                                                                        {"malformed", &ServerCounters::malformed}};
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.server_count(); ++id) {
                   if (!server_shown(r, id)) continue;
                   for (const auto& [reason, f] : reasons) {
                     Labels labels = server_labels(r.server(id));
                     labels.emplace_back("reason", reason);
                     out.integer(labels, sum_server(r, id, f));
                   }
                 }
               }});
  t.push_back({.name = "backend_no_free_slot_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries the server was skipped for: its bound on queries in flight was reached.",
               .labels = {"pool", "server"},
               .json = "servers.{server}.no_free_slot",
               .read = per_server(&ServerCounters::full)});
  t.push_back({.name = "backend_latency_average_microseconds",
               .type = MetricType::kGauge,
               .unit = "microseconds",
               .help = "Mean latency of the server's accepted answers since start (document only).",
               .labels = {"pool", "server"},
               .json = "servers.{server}.latency_avg_us",
               .prometheus = false,
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.server_count(); ++id) {
                   if (!server_shown(r, id)) continue;
                   uint64_t sum_us = 0;
                   for (unsigned w = 0; w < r.worker_count(); ++w) sum_us += r.worker(w).servers[id].latency.sum_us();
                   const uint64_t answers = sum_server(r, id, &ServerCounters::answers);
                   out.integer(server_labels(r.server(id)), answers ? sum_us / answers : 0);
                 }
               }});
  t.push_back({.name = "backend_tcp_latency_average_microseconds",
               .type = MetricType::kGauge,
               .unit = "microseconds",
               .help = "Mean latency of the server's accepted answers to TCP clients since start (document only).",
               .labels = {"pool", "server"},
               .json = "servers.{server}.tcp_latency_avg_us",
               .prometheus = false,
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.server_count(); ++id) {
                   if (!server_shown(r, id)) continue;
                   const uint64_t sum_us = sum_server(r, id, &ServerCounters::tcp_latency_sum_us);
                   const uint64_t answers = sum_server(r, id, &ServerCounters::tcp_answers);
                   out.integer(server_labels(r.server(id)), answers ? sum_us / answers : 0);
                 }
               }});
  // State and latency distribution: `ctl servers` and `ctl latency` have
  // their own documents for these.
  t.push_back({.name = "backend_up",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "1 when the server is up (health checks or an operator's override), else 0.",
               .labels = {"pool", "server"},
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.server_count(); ++id) {
                   if (server_shown(r, id)) out.integer(server_labels(r.server(id)), r.server(id).up.load(std::memory_order_relaxed) ? 1 : 0);
                 }
               }});
  t.push_back({.name = "backend_latency_seconds",
               .type = MetricType::kHistogram,
               .unit = "seconds",
               .help = "Latency of the server's accepted answers.",
               .labels = {"pool", "server"},
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.server_count(); ++id) {
                   if (!server_shown(r, id)) continue;
                   LatencySnapshot s;
                   for (unsigned w = 0; w < r.worker_count(); ++w) s.add(r.worker(w).servers[id].latency);
                   out.histogram(server_labels(r.server(id)), s);
                 }
               }});
}

}  // namespace dnspc::runtime
