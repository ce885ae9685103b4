#include "dnspc/runtime/stats.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/metrics_json.h"
#include "reload_json.h"

namespace dnspc::runtime {

namespace {

using Writer = JsonWriter;

void field(Writer& w, const char* key, uint64_t value) {
  w.Key(key);
  w.Uint64(value);
}

void string_field(Writer& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
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

// Not in the metrics table: an object of strings, a bool and times in
// milliseconds, or null before the first reload, where the table holds
// numbers under fixed keys. Its counts are the table's reloads_total.
void write_last_reload(Writer& w, const ReloadSummary& l) {
  w.Key("last_reload");
  if (!l.any) {
    w.Null();
    return;
  }
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
}


std::string stats_json(const MetricsContext& c) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  const MetricsDocument numbers(c);
  numbers.write_members(w);
  write_last_reload(w, c.last_reload);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string servers_json(const MetricsContext& c) {
  const Registry& r = *c.registry;
  const MetricsDocument figures(c, "servers.");
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
    figures.write_members(w, {"servers", e.key});
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
