#include "stats.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "active_policy.h"
#include "dnspc/wire.h"

namespace dnspc::runtime {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

template <class F>
uint64_t sum(const Registry& r, F f) {
  uint64_t total = 0;
  for (unsigned w = 0; w < r.worker_count(); ++w) total += f(r.worker(w)).get();
  return total;
}

void field(Writer& w, const char* key, uint64_t value) {
  w.Key(key);
  w.Uint64(value);
}

void key(Writer& w, const std::string& k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

void string_field(Writer& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

struct ServerSums {
  uint64_t queries = 0, answers = 0, timeouts = 0, send_errors = 0, outstanding = 0, latency_sum_us = 0,
           wrong_source = 0, unknown_id = 0, mismatched = 0, malformed = 0, full = 0;
};

ServerSums server_sums(const Registry& r, uint32_t id) {
  ServerSums s;
  for (unsigned w = 0; w < r.worker_count(); ++w) {
    const ServerCounters& c = r.worker(w).servers[id];
    s.queries += c.queries.get();
    s.answers += c.answers.get();
    s.timeouts += c.timeouts.get();
    s.send_errors += c.send_errors.get();
    s.outstanding += c.outstanding.get();
    s.latency_sum_us += c.latency.sum_us();  // the histogram keeps the sum
    s.wrong_source += c.wrong_source.get();
    s.unknown_id += c.unknown_id.get();
    s.mismatched += c.mismatched.get();
    s.malformed += c.malformed.get();
    s.full += c.full.get();
  }
  return s;
}

void server_counters(Writer& w, const ServerSums& s) {
  field(w, "queries", s.queries);
  field(w, "answers", s.answers);
  field(w, "timeouts", s.timeouts);
  field(w, "outstanding", s.outstanding);
  field(w, "send_errors", s.send_errors);
  field(w, "wrong_source", s.wrong_source);
  field(w, "unknown_id", s.unknown_id);
  field(w, "mismatched", s.mismatched);
  field(w, "malformed", s.malformed);
  field(w, "no_free_slot", s.full);
  field(w, "latency_avg_us", s.answers ? s.latency_sum_us / s.answers : 0);
}

const char* mode_name(ServerMode m) {
  switch (m) {
    case ServerMode::kAuto: return "auto";
    case ServerMode::kUp: return "up";
    case ServerMode::kDown: return "down";
  }
  return "auto";
}

#define TCP_FIELD(name) field(w, #name, sum(r, [](const WorkerCounters& x) -> const Counter& { return x.tcp.name; }))

// DNS over TCP: connections, the limits that closed them, backend connections.
void tcp_stats(Writer& w, const Registry& r) {
  w.Key("tcp");
  w.StartObject();
  TCP_FIELD(accepted);
  TCP_FIELD(open);
  TCP_FIELD(queries);
  TCP_FIELD(answers);
  TCP_FIELD(answers_discarded);
  TCP_FIELD(client_paused);
  w.Key("closed");
  w.StartObject();
  TCP_FIELD(refused_total_limit);
  TCP_FIELD(refused_client_limit);
  TCP_FIELD(acl_dropped);
  TCP_FIELD(closed_by_client);
  TCP_FIELD(closed_query_limit);
  TCP_FIELD(closed_idle);
  TCP_FIELD(closed_duration);
  TCP_FIELD(closed_buffer);
  TCP_FIELD(closed_short_length);
  TCP_FIELD(closed_incomplete);
  TCP_FIELD(closed_error);
  TCP_FIELD(closed_dropped);
  w.EndObject();
  w.Key("backend");
  w.StartObject();
  TCP_FIELD(backend_connects);
  TCP_FIELD(backend_connect_failures);
  TCP_FIELD(backend_connect_timeouts);
  TCP_FIELD(backend_timeouts);
  TCP_FIELD(backend_closed_in_flight);
  TCP_FIELD(backend_retries);
  TCP_FIELD(backend_reused);
  TCP_FIELD(backend_busy);
  TCP_FIELD(backend_waited);
  TCP_FIELD(backend_wait_timeouts);
  TCP_FIELD(backend_waiting);
  TCP_FIELD(backend_malformed);
  TCP_FIELD(backend_unknown_id);
  TCP_FIELD(backend_mismatched);
  TCP_FIELD(servfail);
  w.EndObject();
  w.EndObject();
}

#undef TCP_FIELD

}  // namespace

std::string stats_json(const MetricsContext& c) {
  const Registry& r = *c.registry;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("uptime_s");
  w.Double(c.uptime_s);
  field(w, "workers", r.worker_count());
  field(w, "queries", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.queries; }));
  field(w, "answers", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.answers; }));
  w.Key("acl");
  w.StartObject();
  field(w, "refused", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.acl_refused; }));
  field(w, "dropped", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.acl_dropped; }));
  w.EndObject();
  w.Key("malformed");
  w.StartObject();
  for (unsigned e = 1; e < kParseErrorCount; ++e) {
    field(w, parse_error_name(static_cast<ParseError>(e)),
          sum(r, [e](const WorkerCounters& x) -> const Counter& { return x.malformed[e]; }));
  }
  field(w, "oversized", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.oversized; }));
  w.EndObject();
  w.Key("actions");
  w.StartObject();
  for (unsigned a = 0; a < kActionKindCount; ++a) {
    field(w, action_kind_name(static_cast<ActionKind>(a)),
          sum(r, [a](const WorkerCounters& x) -> const Counter& { return x.actions[a]; }));
  }
  w.EndObject();
  field(w, "forwarded", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.forwarded; }));
  w.Key("no_server");
  w.StartObject();
  field(w, "dropped", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.no_server_dropped; }));
  field(w, "servfail", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.no_server_servfail; }));
  w.EndObject();
  field(w, "no_free_id", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.no_id; }));
  // Queries answered by dnspc itself because they are not plain queries.
  w.Key("protocol");
  w.StartObject();
  field(w, "formerr_no_question",
        sum(r, [](const WorkerCounters& x) -> const Counter& { return x.formerr_no_question; }));
  field(w, "notimp_opcode", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.notimp_opcode; }));
  w.EndObject();
  w.Key("timeouts");
  w.StartObject();
  field(w, "total", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.timeouts; }));
  field(w, "servfail", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.timeout_servfail; }));
  w.EndObject();
  w.Key("backend_answers");
  w.StartObject();
  field(w, "accepted", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.backend_answers; }));
  field(w, "wrong_source", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.wrong_source; }));
  field(w, "unknown_id", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.unknown_id; }));
  field(w, "mismatched", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.mismatched; }));
  field(w, "malformed", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.backend_malformed; }));
  field(w, "truncated_for_client",
        sum(r, [](const WorkerCounters& x) -> const Counter& { return x.truncated_for_client; }));
  w.EndObject();
  w.Key("send_errors");
  w.StartObject();
  field(w, "client", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.client_send_errors; }));
  field(w, "backend", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.backend_send_errors; }));
  w.EndObject();
  w.Key("log");
  w.StartObject();
  field(w, "lines", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.logged; }));
  field(w, "dropped", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.log_dropped; }));
  w.EndObject();
  tcp_stats(w, r);
  w.Key("response_actions");
  w.StartObject();
  for (ActionKind k : {ActionKind::kDrop, ActionKind::kTruncate, ActionKind::kRcode}) {
    const unsigned a = static_cast<unsigned>(k);
    field(w, action_kind_name(k),
          sum(r, [a](const WorkerCounters& x) -> const Counter& { return x.response_actions[a]; }));
  }
  w.EndObject();
  w.Key("delay");
  w.StartObject();
  field(w, "held", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.delayed; }));
  field(w, "dropped_full", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.delay_dropped; }));
  w.EndObject();
  field(w, "batches", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.batches; }));
  field(w, "random_refills", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.random_refills; }));
  w.Key("rules");
  w.StartObject();
  // The running policy's names; a removed one keeps its counter in the
  // registry and shows again if a reload brings it back.
  for (uint32_t id = 0; id < r.rule_count(); ++id) {
    if (!r.rule_live(id)) continue;
    key(w, r.rule_name(id));
    w.Uint64(sum(r, [id](const WorkerCounters& x) -> const Counter& { return x.rule_hits[id]; }));
  }
  w.EndObject();
  w.Key("tags");
  w.StartObject();
  for (uint32_t id = 0; id < r.tag_count(); ++id) {
    if (!r.tag_live(id)) continue;
    key(w, r.tag_name(id));
    w.Uint64(sum(r, [id](const WorkerCounters& x) -> const Counter& { return x.tag_hits[id]; }));
  }
  w.EndObject();
  w.Key("servers");
  w.StartObject();
  for (uint32_t id = 0; id < r.server_count(); ++id) {
    ServerSums sums = server_sums(r, id);
    if (!r.server(id).live && sums.outstanding == 0) continue;  // removed and drained
    key(w, r.server(id).key);
    w.StartObject();
    server_counters(w, sums);
    w.EndObject();
  }
  w.EndObject();
  w.Key("last_reload");
  if (c.last_reload.any) {
    const ReloadSummary& l = c.last_reload;
    w.StartObject();
    string_field(w, "time", l.time);
    w.Key("ok");
    w.Bool(l.ok);
    string_field(w, "message", l.message);
    string_field(w, "diagnostics", l.diagnostics);
    w.Key("compile_ms");
    w.Double(l.compile_ms);
    w.Key("swap_ms");
    w.Double(l.swap_ms);
    field(w, "reloads", l.total);
    field(w, "failed", l.failed);
    w.EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string servers_json(const MetricsContext& c) {
  const Registry& r = *c.registry;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("servers");
  w.StartArray();
  for (uint32_t id = 0; id < r.server_count(); ++id) {
    const ServerEntry& e = r.server(id);
    if (!e.live) continue;  // removed by a reload
    w.StartObject();
    string_field(w, "key", e.key);
    string_field(w, "pool", e.pool);
    string_field(w, "address", e.spec.address.to_string(true));
    w.Key("state");
    w.String(e.up.load(std::memory_order_relaxed) ? "up" : "down");
    w.Key("mode");
    w.String(mode_name(e.spec.mode));
    w.Key("forced");  // an operator's override (ctl server KEY up|down), or null
    if (e.forced == ServerMode::kAuto) {
      w.Null();
    } else {
      w.String(mode_name(e.forced));
    }
    field(w, "weight", e.spec.weight);
    field(w, "order", e.spec.order);
    field(w, "qps_limit", e.spec.qps);
    server_counters(w, server_sums(r, id));
    w.Key("health");
    w.StartObject();
    string_field(w, "check", e.spec.check.qname);
    field(w, "checks", e.checks.get());
    field(w, "failures", e.check_failures.get());
    field(w, "consecutive_failures", e.consecutive_failures.get());
    field(w, "consecutive_successes", e.consecutive_successes.get());
    field(w, "state_changes", e.state_changes.get());
    field(w, "last_rtt_us", e.last_check_rtt_us.get());
    string_field(w, "last_failure", e.last_failure);
    w.EndObject();
    w.Key("source_ports");
    w.StartArray();
    if (id < c.backend_ports.size()) {
      for (uint16_t p : c.backend_ports[id]) w.Uint(p);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("pools");
  w.StartArray();
  if (c.policy) {
    for (const BoundPool& p : c.policy->pools) {
      w.StartObject();
      string_field(w, "name", p.name);
      w.Key("policy");
      w.String(lb_policy_name(p.lb.policy));
      w.Key("on_no_server");
      w.String(p.servfail_on_no_server ? "servfail" : "drop");
      w.Key("servers");
      w.StartArray();
      for (const LbServer& s : p.lb.servers) {
        const std::string& k = r.server(s.id).key;
        w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
      }
      w.EndArray();
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace dnspc::runtime
