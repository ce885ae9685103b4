// The table's entries for the web server (WebCounters, docs/web.md): answers
// by status class, refused credentials, refused connections. Without a web
// server every sample is 0, so the document and the metric names stay the
// same whether or not it runs.
#include "dnspc/runtime/web_counters.h"
#include "metric_defs.h"

namespace dnspc::runtime {

namespace {

using WebField = Counter WebCounters::*;

MetricReader web_by(const char* label,
                    std::initializer_list<std::pair<const char*, WebField>> fields) {
  return [label, v = std::vector(fields)](const MetricsContext& c, MetricSink& out) {
    for (const auto& [value, f] : v) out.integer({{label, value}}, c.web ? (c.web->*f).get() : 0);
  };
}

}  // namespace

void add_web_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "web_answers_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "HTTP answers of the web server, by status class.",
               .labels = {"code"},
               .json = "web.answers.{code}",
               .read = web_by("code", {{"2xx", &WebCounters::answers_2xx},
                                       {"4xx", &WebCounters::answers_4xx},
                                       {"5xx", &WebCounters::answers_5xx}})});
  t.push_back(
      {.name = "web_auth_failures_total",
       .type = MetricType::kCounter,
       .unit = "",
       .help = "Web requests refused for their credentials (401), or turned away by the login rate "
               "limits (429), by reason.",
       .labels = {"reason"},
       .json = "web.auth_failures.{reason}",
       .read = web_by("reason", {{"bad_password", &WebCounters::auth_bad_password},
                                 {"bad_api_key", &WebCounters::auth_bad_api_key},
                                 {"missing", &WebCounters::auth_missing},
                                 {"throttled", &WebCounters::auth_throttled}})});
  t.push_back(
      {.name = "web_connections_refused_total",
       .type = MetricType::kCounter,
       .unit = "",
       .help =
           "Web connections closed without an answer: a client outside web_acl, or past the limit "
           "of open connections.",
       .labels = {"reason"},
       .json = "web.refused.{reason}",
       .read = web_by("reason", {{"acl", &WebCounters::refused_acl},
                                 {"limit", &WebCounters::refused_limit}})});
  t.push_back({.name = "web_connections_open",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Web connections open now.",
               .json = "web.open",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 out.integer({}, c.web ? c.web->connections_open.get() : 0);
               }});
}

}  // namespace dnspc::runtime
