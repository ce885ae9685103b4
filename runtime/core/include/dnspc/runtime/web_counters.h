// The web server's counters (docs/web.md). The server runs on the main loop
// and the metrics are rendered there too, so one set, not one per worker;
// MetricsContext points at it (null: no web server, every sample 0).
#pragma once

#include "dnspc/runtime/counter.h"

namespace dnspc::runtime {

struct WebCounters {
  // Answers sent, by status class.
  Counter answers_2xx, answers_4xx, answers_5xx;
  // Requests refused for their credentials: a wrong password, a wrong API
  // key, or none at all; and attempts turned away by the rate limits (429).
  Counter auth_bad_password, auth_bad_api_key, auth_missing, auth_throttled;
  // Connections closed at once: a client outside web_acl, or past the limit
  // of open connections.
  Counter refused_acl, refused_limit;
  // Connections open now.
  Counter connections_open;
};

}  // namespace dnspc::runtime
