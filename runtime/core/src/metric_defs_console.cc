// The table's entries for the console (ConsoleCounters, docs/console.md).
// Without a console every sample is 0, so the names stay the same.
#include "dnspc/runtime/console_counters.h"
#include "metric_defs.h"

namespace dnspc::runtime {

namespace {

using ConsoleField = Counter ConsoleCounters::*;

MetricReader console_by(const char* label,
                        std::initializer_list<std::pair<const char*, ConsoleField>> fields) {
  return [label, v = std::vector(fields)](const MetricsContext& c, MetricSink& out) {
    for (const auto& [value, f] : v)
      out.integer({{label, value}}, c.console ? (c.console->*f).get() : 0);
  };
}

MetricReader console_one(ConsoleField f) {
  return [f](const MetricsContext& c, MetricSink& out) {
    out.integer({}, c.console ? (c.console->*f).get() : 0);
  };
}

}  // namespace

void add_console_metrics(std::vector<MetricDef>& t) {
  t.push_back(
      {.name = "console_connections_refused_total",
       .type = MetricType::kCounter,
       .unit = "",
       .help =
           "Console connections closed before a session, by reason: a wrong key, a hello that is "
           "not the console's, no hello in time, outside console_acl, past the limits.",
       .labels = {"reason"},
       .json = "console.refused.{reason}",
       .read = console_by("reason", {{"bad_key", &ConsoleCounters::refused_bad_key},
                                     {"bad_hello", &ConsoleCounters::refused_bad_hello},
                                     {"timeout", &ConsoleCounters::refused_timeout},
                                     {"acl", &ConsoleCounters::refused_acl},
                                     {"limit", &ConsoleCounters::refused_limit}})});
  t.push_back({.name = "console_frames_refused_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Console sessions ended by a frame over the size cap or one that did not "
                       "open (tampered, "
                       "replayed, reordered).",
               .json = "console.frames_refused",
               .read = console_one(&ConsoleCounters::frames_refused)});
  t.push_back({.name = "console_lines_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Lines the console ran.",
               .json = "console.lines",
               .read = console_one(&ConsoleCounters::lines)});
  t.push_back({.name = "console_line_errors_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Console lines that ended in a Lua error.",
               .json = "console.line_errors",
               .read = console_one(&ConsoleCounters::line_errors)});
  t.push_back({.name = "console_sessions_open",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Authenticated console sessions open now.",
               .json = "console.sessions",
               .read = console_one(&ConsoleCounters::sessions_open)});
}

}  // namespace dnspc::runtime
