#include "stats.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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
    s.latency_sum_us += c.latency_sum_us.get();
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

}  // namespace

std::string stats_json(const StatsContext& c) {
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
  field(w, "batches", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.batches; }));
  field(w, "random_refills", sum(r, [](const WorkerCounters& x) -> const Counter& { return x.random_refills; }));
  w.Key("rules");
  w.StartObject();
  for (uint32_t id = 0; id < r.rule_count(); ++id) {
    key(w, r.rule_name(id));
    w.Uint64(sum(r, [id](const WorkerCounters& x) -> const Counter& { return x.rule_hits[id]; }));
  }
  w.EndObject();
  w.Key("tags");
  w.StartObject();
  for (uint32_t id = 0; id < r.tag_count(); ++id) {
    key(w, r.tag_name(id));
    w.Uint64(sum(r, [id](const WorkerCounters& x) -> const Counter& { return x.tag_hits[id]; }));
  }
  w.EndObject();
  w.Key("servers");
  w.StartObject();
  for (uint32_t id = 0; id < r.server_count(); ++id) {
    key(w, r.server(id).key);
    w.StartObject();
    server_counters(w, server_sums(r, id));
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string servers_json(const StatsContext& c) {
  const Registry& r = *c.registry;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("servers");
  w.StartArray();
  for (uint32_t id = 0; id < r.server_count(); ++id) {
    const ServerEntry& e = r.server(id);
    w.StartObject();
    string_field(w, "key", e.key);
    string_field(w, "pool", e.pool);
    string_field(w, "address", e.spec.address.to_string(true));
    w.Key("state");
    w.String(e.up.load(std::memory_order_relaxed) ? "up" : "down");
    w.Key("mode");
    w.String(mode_name(e.spec.mode));
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
