// The table's entries for the process and for the queries and answers every
// worker handles (UDP and TCP alike), in the order of the `stats` document.
#include "dnspc/dns_names.h"
#include "dnspc/verdict.h"
#include "dnspc/wire.h"
#include "metric_defs.h"
#include "dnspc/runtime/traffic_ring.h"

namespace dnspc::runtime {

void add_process_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "build_info",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Always 1; the version is a label.",
               .labels = {"version"},
               .read = [](const MetricsContext& c, MetricSink& out) { out.integer({{"version", c.version}}, 1); }});
  t.push_back({.name = "uptime_seconds",
               .type = MetricType::kGauge,
               .unit = "seconds",
               .help = "Seconds since dnspc run started.",
               .json = "uptime_s",
               .read = [](const MetricsContext& c, MetricSink& out) { out.real({}, c.uptime_s); }});
  t.push_back({.name = "workers",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Worker threads.",
               .json = "workers",
               .read = [](const MetricsContext& c, MetricSink& out) { out.integer({}, c.registry->worker_count()); }});
  // In the document under last_reload, with the reload's time and message
  // (stats.cc), which are not numbers.
  t.push_back({.name = "reloads_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Policy reloads, by result.",
               .labels = {"result"},
               .read = [](const MetricsContext& c, MetricSink& out) {
                 out.integer({{"result", "ok"}}, c.last_reload.total - c.last_reload.failed);
                 out.integer({{"result", "failed"}}, c.last_reload.failed);
               }});
}

void add_traffic_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "messages_received_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "DNS messages received on the listeners (UDP datagrams and TCP messages), before the ACL.",
               .json = "queries",
               .read = sum_of(&WorkerCounters::queries)});
  t.push_back({.name = "messages_sent_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "DNS messages sent to clients (UDP datagrams and TCP messages).",
               .json = "answers",
               .read = sum_of(&WorkerCounters::answers)});
  t.push_back({.name = "acl_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries from outside the ACL, by what was done.",
               .labels = {"result"},
               .json = "acl.{result}",
               .read = sum_by("result", {{"refused", &WorkerCounters::acl_refused},
                                         {"dropped", &WorkerCounters::acl_dropped}})});
  t.push_back({.name = "malformed_queries_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Packets on a listener that are not a query dnspc can decide, by reason.",
               .labels = {"reason"},
               .json = "malformed.{reason}",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 for (unsigned e = 1; e < kParseErrorCount; ++e) {  // [0] is kOk
                   out.integer({{"reason", parse_error_name(static_cast<ParseError>(e))}},
                               sum_workers(*c.registry, [e](const WorkerCounters& w) -> const Counter& { return w.malformed[e]; }));
                 }
                 out.integer({{"reason", "oversized"}},
                             sum_workers(*c.registry, [](const WorkerCounters& w) -> const Counter& { return w.oversized; }));
               }});
  t.push_back({.name = "queries_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries decided (UDP and TCP), by the verdict's action, in the kernel (XDP) or in user space.",
               .labels = {"action", "path"},
               .read = [](const MetricsContext& c, MetricSink& out) {
                 for (unsigned a = 0; a < kActionKindCount; ++a) {
                   const char* name = action_kind_name(static_cast<ActionKind>(a));
                   out.integer({{"action", name}, {"path", "user"}},
                               sum_workers(*c.registry, [a](const WorkerCounters& w) -> const Counter& { return w.actions[a]; }));
                   out.integer({{"action", name}, {"path", "kernel"}}, c.registry->kernel.actions[a]);
                 }
               }});
  t.push_back({.name = "queries_all_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries decided, by the verdict's action, kernel and user space together.",
               .labels = {"action"},
               .json = "actions.{action}",
               .prometheus = false,
               .read = [](const MetricsContext& c, MetricSink& out) {
                 for (unsigned a = 0; a < kActionKindCount; ++a) {
                   out.integer({{"action", action_kind_name(static_cast<ActionKind>(a))}},
                               sum_workers(*c.registry, [a](const WorkerCounters& w) -> const Counter& { return w.actions[a]; }) +
                                   c.registry->kernel.actions[a]);
                 }
               }});
  t.push_back({.name = "answers_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Answers sent to clients, by where they came from.",
               .labels = {"source"},
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const std::pair<const char*, AnswerSource> sources[] = {
                     {"backend", AnswerSource::kBackend}, {"local", AnswerSource::kLocal}, {"timeout", AnswerSource::kTimeout},
                     {"cache", AnswerSource::kCache}};
                 for (const auto& [name, source] : sources) {
                   const unsigned s = static_cast<unsigned>(source);
                   out.integer({{"source", name}},
                               sum_workers(*c.registry, [s](const WorkerCounters& w) -> const Counter& { return w.answers_by_source[s]; }));
                 }
               }});
  t.push_back({.name = "answers_by_rcode_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Answers sent to clients, by the rcode in their header.",
               .labels = {"rcode"},
               .read = [](const MetricsContext& c, MetricSink& out) {
                 for (unsigned r = 0; r < 16; ++r) {
                   const uint64_t v =
                       sum_workers(*c.registry, [r](const WorkerCounters& w) -> const Counter& { return w.answer_rcodes[r]; });
                   // NOERROR..REFUSED always, so a dashboard's series exist from the start.
                   if (v > 0 || r <= rcode::kRefused) out.integer({{"rcode", rcode_name(static_cast<uint8_t>(r))}}, v);
                 }
               }});
  t.push_back({.name = "answer_latency_seconds",
               .type = MetricType::kHistogram,
               .unit = "seconds",
               .help = "Latency of accepted backend answers, by the client's transport; and of cache hits.",
               .labels = {"transport"},
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 LatencySnapshot udp, tcp, cache;
                 for (unsigned w = 0; w < r.worker_count(); ++w) {
                   udp.add(r.worker(w).latency_udp);
                   tcp.add(r.worker(w).latency_tcp);
                   cache.add(r.worker(w).latency_cache);
                 }
                 out.histogram({{"transport", "udp"}}, udp);
                 out.histogram({{"transport", "tcp"}}, tcp);
                 out.histogram({{"transport", "cache"}}, cache);
               }});
  t.push_back({.name = "forwarded_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries forwarded to a backend.",
               .json = "forwarded",
               .read = sum_of(&WorkerCounters::forwarded)});
  t.push_back({.name = "no_server_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries whose pool had no usable server, by what was done.",
               .labels = {"result"},
               .json = "no_server.{result}",
               .read = sum_by("result", {{"dropped", &WorkerCounters::no_server_dropped},
                                         {"servfail", &WorkerCounters::no_server_servfail}})});
  t.push_back({.name = "no_free_id_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP queries not forwarded: no free query ID on the chosen socket after a few draws.",
               .json = "no_free_id",
               .read = sum_of(&WorkerCounters::no_id)});
  t.push_back({.name = "protocol_answers_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries dnspc answered itself because they are not plain queries, by reason.",
               .labels = {"reason"},
               .json = "protocol.{reason}",
               .read = sum_by("reason", {{"formerr_no_question", &WorkerCounters::formerr_no_question},
                                         {"notimp_opcode", &WorkerCounters::notimp_opcode}})});
  t.push_back({.name = "timeouts_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Forwarded queries whose backend did not answer in time (udp_timeout; over TCP tcp_backend_timeout).",
               .json = "timeouts.total",
               .read = sum_of(&WorkerCounters::timeouts)});
  t.push_back({.name = "udp_timeout_servfails_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP queries answered SERVFAIL after a timeout (option timeout_servfail).",
               .json = "timeouts.servfail",
               .read = sum_of(&WorkerCounters::timeout_servfail)});
  t.push_back({.name = "backend_answers_accepted_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Backend answers accepted, UDP and TCP, all servers (per server: dnspc_backend_answers_total).",
               .json = "backend_answers.accepted",
               .read = sum_of(&WorkerCounters::backend_answers)});
  t.push_back({.name = "udp_backend_answers_rejected_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Datagrams on the sockets toward backends that are not an answer to a query in flight, by reason.",
               .labels = {"reason"},
               .json = "backend_answers.{reason}",
               .read = sum_by("reason", {{"wrong_source", &WorkerCounters::wrong_source},
                                         {"unknown_id", &WorkerCounters::unknown_id},
                                         {"mismatched", &WorkerCounters::mismatched},
                                         {"malformed", &WorkerCounters::backend_malformed}})});
  t.push_back({.name = "backend_answers_truncated_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP backend answers larger than the client's payload size, sent to it as TC=1.",
               .json = "backend_answers.truncated_for_client",
               .read = sum_of(&WorkerCounters::truncated_for_client)});
  t.push_back({.name = "client_send_errors_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP answers the kernel refused to send to a client.",
               .json = "send_errors.client",
               .read = sum_of(&WorkerCounters::client_send_errors)});
  t.push_back({.name = "udp_backend_send_errors_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP queries the kernel refused to send to a backend, all servers.",
               .json = "send_errors.backend",
               .read = sum_of(&WorkerCounters::backend_send_errors)});
  t.push_back({.name = "log_lines_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Lines written by the log modifier.",
               .json = "log.lines",
               .read = sum_of(&WorkerCounters::logged)});
  t.push_back({.name = "log_lines_dropped_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Log lines lost because a batch's log buffer was full.",
               .json = "log.dropped",
               .read = sum_of(&WorkerCounters::log_dropped)});
  t.push_back({.name = "receive_batches_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Batches the workers ran: each recvmmsg that returned datagrams (from a listener or a backend "
                       "socket) and each timer tick.",
               .json = "batches",
               .read = sum_of(&WorkerCounters::batches)});
  t.push_back({.name = "random_refills_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Refills of the workers' buffers of random bytes (query IDs, source ports).",
               .json = "random_refills",
               .read = sum_of(&WorkerCounters::random_refills)});
}

}  // namespace dnspc::runtime
