// The table's entries for DNS over TCP (TcpCounters): client connections,
// the limits that closed them, and connections to backends. The document
// keeps its older keys ("tcp.closed.closed_idle", "tcp.backend.backend_*"),
// so a label value here is that key or its tail.
#include "metric_defs.h"

namespace dnspc::runtime {

void add_tcp_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "tcp_connections_accepted_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "TCP client connections accepted.",
               .json = "tcp.accepted",
               .read = sum_of(&TcpCounters::accepted)});
  t.push_back({.name = "tcp_connections_open",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "TCP client connections open now.",
               .json = "tcp.open",
               .read = sum_of(&TcpCounters::open)});
  t.push_back({.name = "tcp_queries_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "DNS messages received on TCP client connections.",
               .json = "tcp.queries",
               .read = sum_of(&TcpCounters::queries)});
  t.push_back({.name = "tcp_answers_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "DNS messages sent on TCP client connections.",
               .json = "tcp.answers",
               .read = sum_of(&TcpCounters::answers)});
  t.push_back({.name = "tcp_answers_discarded_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Backend answers for TCP clients that had already closed.",
               .json = "tcp.answers_discarded",
               .read = sum_of(&TcpCounters::answers_discarded)});
  t.push_back({.name = "tcp_client_pauses_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Times a TCP client connection stopped being read: tcp_client_max_in_flight reached.",
               .json = "tcp.client_paused",
               .read = sum_of(&TcpCounters::client_paused)});
  // A close counts under one reason; closed_incomplete comes on top of
  // another reason, so it is a metric of its own (a sum over the reasons
  // would count those closes twice).
  t.push_back({.name = "tcp_connections_closed_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "TCP client connections refused at accept or closed by dnspc or the client, by reason.",
               .labels = {"reason"},
               .json = "tcp.closed.{reason}",
               .read = sum_by("reason", {{"refused_total_limit", &TcpCounters::refused_total_limit},
                                         {"refused_client_limit", &TcpCounters::refused_client_limit},
                                         {"acl_dropped", &TcpCounters::acl_dropped},
                                         {"closed_by_client", &TcpCounters::closed_by_client},
                                         {"closed_query_limit", &TcpCounters::closed_query_limit},
                                         {"closed_idle", &TcpCounters::closed_idle},
                                         {"closed_duration", &TcpCounters::closed_duration},
                                         {"closed_buffer", &TcpCounters::closed_buffer},
                                         {"closed_short_length", &TcpCounters::closed_short_length},
                                         {"closed_error", &TcpCounters::closed_error},
                                         {"closed_dropped", &TcpCounters::closed_dropped}})});
  t.push_back({.name = "tcp_connections_closed_incomplete_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "TCP client connections closed (for any reason) in the middle of a message.",
               .json = "tcp.closed.closed_incomplete",
               .read = sum_of(&TcpCounters::closed_incomplete)});
  t.push_back({.name = "tcp_backend_connects_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "TCP connections opened to backends.",
               .json = "tcp.backend.backend_connects",
               .read = sum_of(&TcpCounters::backend_connects)});
  t.push_back({.name = "tcp_backend_connect_failures_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "TCP connections to backends that failed.",
               .json = "tcp.backend.backend_connect_failures",
               .read = sum_of(&TcpCounters::backend_connect_failures)});
  t.push_back({.name = "tcp_backend_connect_timeouts_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "TCP connections to backends not established within tcp_connect_timeout.",
               .json = "tcp.backend.backend_connect_timeouts",
               .read = sum_of(&TcpCounters::backend_connect_timeouts)});
  t.push_back({.name = "tcp_backend_timeouts_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries over TCP whose answer took longer than tcp_backend_timeout.",
               .json = "tcp.backend.backend_timeouts",
               .read = sum_of(&TcpCounters::backend_timeouts)});
  t.push_back({.name = "tcp_backend_closed_in_flight_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "TCP backend connections the backend closed with queries in flight.",
               .json = "tcp.backend.backend_closed_in_flight",
               .read = sum_of(&TcpCounters::backend_closed_in_flight)});
  t.push_back({.name = "tcp_backend_retries_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries sent again on another TCP backend connection.",
               .json = "tcp.backend.backend_retries",
               .read = sum_of(&TcpCounters::backend_retries)});
  t.push_back({.name = "tcp_backend_reused_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries sent on a TCP backend connection already open.",
               .json = "tcp.backend.backend_reused",
               .read = sum_of(&TcpCounters::backend_reused)});
  // No longer counted (queries wait for room now); kept for the document's readers.
  t.push_back({.name = "tcp_backend_busy_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries no TCP backend connection could take (always 0: such queries wait now).",
               .json = "tcp.backend.backend_busy",
               .read = sum_of(&TcpCounters::backend_busy)});
  t.push_back({.name = "tcp_backend_waited_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries that waited for room on the TCP backend connections.",
               .json = "tcp.backend.backend_waited",
               .read = sum_of(&TcpCounters::backend_waited)});
  t.push_back({.name = "tcp_backend_wait_timeouts_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries that waited for room longer than tcp_backend_timeout (answered SERVFAIL).",
               .json = "tcp.backend.backend_wait_timeouts",
               .read = sum_of(&TcpCounters::backend_wait_timeouts)});
  t.push_back({.name = "tcp_backend_waiting",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Queries waiting for room on the TCP backend connections now.",
               .json = "tcp.backend.backend_waiting",
               .read = sum_of(&TcpCounters::backend_waiting)});
  t.push_back({.name = "tcp_backend_answers_rejected_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Messages on TCP backend connections that are not an answer to a query in flight, by reason.",
               .labels = {"reason"},
               .json = "tcp.backend.backend_{reason}",
               .read = sum_by("reason", {{"malformed", &TcpCounters::backend_malformed},
                                         {"unknown_id", &TcpCounters::backend_unknown_id},
                                         {"mismatched", &TcpCounters::backend_mismatched}})});
  t.push_back({.name = "tcp_servfails_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "SERVFAIL answered to TCP clients for a failed forward.",
               .json = "tcp.backend.servfail",
               .read = sum_of(&TcpCounters::servfail)});
}

}  // namespace dnspc::runtime
