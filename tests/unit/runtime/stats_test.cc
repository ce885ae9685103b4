// The control documents from the metrics table: `stats` keeps the shape
// readers know, and every registry counter moves it or Prometheus.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"
#include "dnspc/runtime/stats.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

std::shared_ptr<PolicyImage> image() {
  auto im = std::make_shared<PolicyImage>();
  im->listeners.push_back(*NetAddress::parse("127.0.0.1:5300"));
  im->acl.push_back({*NetAddress::parse("10.0.0.0"), 8});
  im->acl.push_back({*NetAddress::parse("::1"), 128});
  PoolSpec p;
  p.name = "main";
  p.policy = LbPolicy::kHashed;
  ServerSpec a, b;
  a.address = *NetAddress::parse("192.0.2.1:53");
  b.address = *NetAddress::parse("[2001:db8::1]:5353");
  b.mode = ServerMode::kDown;
  p.servers = {a, b};
  im->pools.push_back(p);
  im->rules.push_back({"first", ActionKind::kDrop, 0, 0, 0, 0});
  im->rules.push_back({"default", ActionKind::kPool, 0, modifier_bits::kTag, 1, 0});
  im->tags = {"t"};
  im->lua.hooks = {"pick"};
  return im;
}

}  // namespace

TEST_CASE("registry: servers by pool/address:port, forced states, counters summed as JSON", "[runtime]") {
  auto im = image();
  Registry reg(*im, 2);
  REQUIRE(reg.server_count() == 2);
  CHECK(reg.server(0).key == "main/192.0.2.1:53");
  CHECK(reg.server(1).key == "main/[2001:db8::1]:5353");
  CHECK(reg.find_server("main", *NetAddress::parse("[2001:db8::1]:5353")) == 1);
  CHECK(reg.find_server("other", *NetAddress::parse("192.0.2.1:53")) == -1);
  CHECK(reg.server(0).up.load());
  CHECK_FALSE(reg.server(1).up.load());  // state down: never up
  CHECK(reg.find_rule("default") == 1);

  auto active = bind_policy(im, reg);
  CHECK(active->pools[0].lb.policy == LbPolicy::kHashed);
  CHECK(active->pools[0].lb.servers.size() == 2);
  CHECK(acl_allows(*active, *NetAddress::parse("10.1.2.3")));
  CHECK(acl_allows(*active, *NetAddress::parse("::1")));
  CHECK_FALSE(acl_allows(*active, *NetAddress::parse("127.0.0.1")));
  CHECK_FALSE(acl_allows(*active, *NetAddress::parse("::2")));

  reg.worker(0).queries.add(3);
  reg.worker(1).queries.add(4);
  reg.worker(1).malformed[static_cast<unsigned>(ParseError::kBadOpt)].add();
  reg.worker(0).rule_hits[1].add(2);
  reg.worker(1).tag_hits[0].add();
  reg.worker(0).servers[1].queries.add(5);
  reg.worker(1).servers[1].queries.add(6);

  MetricsContext c{&reg, active.get(), 1.5, {{1000, 1001}, {}}, {}};
  rapidjson::Document d;
  std::string json = stats_json(c);
  REQUIRE_FALSE(d.Parse(json.c_str()).HasParseError());
  CHECK(d["queries"].GetUint64() == 7);
  CHECK(d["malformed"]["bad_opt"].GetUint64() == 1);
  CHECK(d["malformed"]["too_short"].GetUint64() == 0);
  CHECK(d["rules"]["default"].GetUint64() == 2);
  CHECK(d["tags"]["t"].GetUint64() == 1);
  CHECK(d["servers"]["main/[2001:db8::1]:5353"]["queries"].GetUint64() == 11);
  CHECK(d["workers"].GetUint64() == 2);
  CHECK(d["uptime_s"].IsDouble());
  CHECK(d["last_reload"].IsNull());

  json = servers_json(c);
  REQUIRE_FALSE(d.Parse(json.c_str()).HasParseError());
  auto& s = d["servers"];
  REQUIRE(s.Size() == 2);
  CHECK(std::string(s[0]["state"].GetString()) == "up");
  CHECK(std::string(s[1]["state"].GetString()) == "down");
  CHECK(std::string(s[1]["mode"].GetString()) == "down");
  CHECK(s[0]["source_ports"].Size() == 2);
  CHECK(s[1]["queries"].GetUint64() == 11);  // the same table entry as stats
  CHECK(s[1].HasMember("latency_avg_us"));
  CHECK(std::string(d["pools"][0]["policy"].GetString()) == "hashed");
}

namespace {

std::set<std::string> keys(const rapidjson::Value& v) {
  std::set<std::string> out;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) out.insert(it->name.GetString());
  return out;
}

bool all_integers(const rapidjson::Value& v) {
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    if (it->value.IsObject() ? !all_integers(it->value) : !it->value.IsUint64()) return false;
  }
  return true;
}

}  // namespace

// The integration tests and operators' scripts read these keys: a change
// here is a change of the documented `stats` document (docs/runtime.md).
TEST_CASE("stats keeps its keys, nesting and integer values", "[runtime][metrics]") {
  auto im = image();
  Registry reg(*im, 2);
  auto active = bind_policy(im, reg);
  MetricsContext c{&reg, active.get(), 2.25, {}, {}};
  c.last_reload = {true, false, "2024-01-01T00:00:00Z", "no", "diag", 12.5, 1.5, 3, 1};
  rapidjson::Document d;
  REQUIRE_FALSE(d.Parse(stats_json(c).c_str()).HasParseError());

  using Keys = std::set<std::string>;
  CHECK(keys(d) == Keys{"uptime_s", "workers", "queries", "answers", "acl", "malformed", "actions", "forwarded",
                        "no_server", "no_free_id", "protocol", "timeouts", "backend_answers", "send_errors", "log",
                        "tcp", "response_actions", "delay", "batches", "random_refills", "rules", "tags", "lua", "servers",
                        "web", "cache", "console", "kernel", "last_reload"});
  CHECK(keys(d["acl"]) == Keys{"refused", "dropped"});
  CHECK(keys(d["malformed"]) == Keys{"too_short", "not_a_query", "question_count", "label_too_long", "name_too_long",
                                     "bad_label_type", "compressed_question", "counts_past_end", "bad_opt",
                                     "oversized"});
  CHECK(keys(d["actions"]) == Keys{"pool", "drop", "refuse", "rcode", "truncate", "spoof", "allow", "lua"});
  CHECK(keys(d["no_server"]) == Keys{"dropped", "servfail"});
  CHECK(keys(d["protocol"]) == Keys{"formerr_no_question", "notimp_opcode"});
  CHECK(keys(d["timeouts"]) == Keys{"total", "servfail"});
  CHECK(keys(d["backend_answers"]) ==
        Keys{"accepted", "wrong_source", "unknown_id", "mismatched", "malformed", "truncated_for_client"});
  CHECK(keys(d["send_errors"]) == Keys{"client", "backend"});
  CHECK(keys(d["log"]) == Keys{"lines", "dropped"});
  CHECK(keys(d["tcp"]) == Keys{"accepted", "open", "queries", "answers", "answers_discarded", "client_paused", "closed",
                               "backend"});
  CHECK(keys(d["tcp"]["closed"]) == Keys{"refused_total_limit", "refused_client_limit", "acl_dropped",
                                         "closed_by_client", "closed_query_limit", "closed_idle", "closed_duration",
                                         "closed_buffer", "closed_short_length", "closed_incomplete", "closed_error",
                                         "closed_dropped"});
  CHECK(keys(d["tcp"]["backend"]) ==
        Keys{"backend_connects", "backend_connect_failures", "backend_connect_timeouts", "backend_timeouts",
             "backend_closed_in_flight", "backend_retries", "backend_reused", "backend_busy", "backend_waited",
             "backend_wait_timeouts", "backend_waiting", "backend_malformed", "backend_unknown_id",
             "backend_mismatched", "servfail"});
  CHECK(keys(d["response_actions"]) == Keys{"drop", "truncate", "rcode"});
  CHECK(keys(d["delay"]) == Keys{"held", "dropped_full"});
  CHECK(keys(d["rules"]) == Keys{"first", "default"});  // zeros too: every rule of the running policy
  CHECK(keys(d["tags"]) == Keys{"t"});
  CHECK(keys(d["lua"]) == Keys{"hooks", "actions_without_verdict"});
  CHECK(keys(d["lua"]["hooks"]["pick"]) == Keys{"calls", "errors", "stops", "seconds", "rebuilds"});
  CHECK(keys(d["lua"]["hooks"]["pick"]["stops"]) == Keys{"instructions", "memory"});
  // Server keys hold dots; the path template splits before it fills them in.
  CHECK(keys(d["servers"]) == Keys{"main/192.0.2.1:53", "main/[2001:db8::1]:5353"});
  CHECK(keys(d["servers"]["main/192.0.2.1:53"]) == Keys{"queries", "answers", "timeouts", "outstanding", "send_errors",
                                                        "wrong_source", "unknown_id", "mismatched", "malformed",
                                                        "no_free_slot", "latency_avg_us", "tcp_latency_avg_us"});
  CHECK(keys(d["console"]) == Keys{"refused", "frames_refused", "lines", "line_errors", "sessions"});
  // The web server's counters (0 without one: c.web is null here).
  CHECK(keys(d["web"]) == Keys{"answers", "auth_failures", "refused", "open"});
  CHECK(keys(d["web"]["answers"]) == Keys{"2xx", "4xx", "5xx"});
  CHECK(keys(d["web"]["auth_failures"]) == Keys{"bad_password", "bad_api_key", "missing", "throttled"});
  CHECK(keys(d["web"]["refused"]) == Keys{"acl", "limit"});
  CHECK(keys(d["last_reload"]) ==
        Keys{"time", "ok", "message", "diagnostics", "compile_ms", "swap_ms", "reloads", "failed"});
  CHECK(d["last_reload"]["compile_ms"].GetDouble() == 12.5);
  CHECK(d["last_reload"]["failed"].GetUint64() == 1);
  CHECK(d["uptime_s"].GetDouble() == 2.25);

  // Everything but uptime_s and last_reload is an integer.
  rapidjson::Document counts;
  counts.CopyFrom(d, counts.GetAllocator());
  counts.RemoveMember("uptime_s");
  counts.RemoveMember("last_reload");
  counts["lua"]["hooks"]["pick"].RemoveMember("seconds");  // time, like uptime_s
  CHECK(all_integers(counts));
}

namespace {

// Where a field sits in its struct, for the check that the fields listed
// below are all there are.
struct Span {
  const char* name;
  size_t offset, size;
};

template <class S, class M>
Span span(const char* name, const S& s, M S::*m) {
  const auto* base = reinterpret_cast<const char*>(&s);
  return {name, static_cast<size_t>(reinterpret_cast<const char*>(&(s.*m)) - base), sizeof(M)};
}

// The listed fields cover the struct end to end without gaps; a field added
// and not listed leaves a gap (or, at the end, outgrows the alignment padding).
template <class S>
void check_covers(std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.offset < b.offset; });
  size_t next = 0;
  for (const Span& f : spans) {
    INFO(f.name);
    CHECK(f.offset == next);
    next = f.offset + f.size;
  }
  CHECK(sizeof(S) - next < alignof(S));
}

struct Bump {
  std::string what;
  std::function<void(WorkerCounters&)> bump;
  bool json = true, prometheus = true;
};

}  // namespace

TEST_CASE("every registry counter is in the metrics table", "[runtime][metrics]") {
  auto im = image();
  Registry reg(*im, 2);
  auto active = bind_policy(im, reg);
  const MetricsContext c{&reg, active.get(), 1, {}, {}};
  WorkerCounters& w1 = reg.worker(1);
  w1.servers[0].answers.add();  // latency_avg_us moves with the histogram's sum

  std::vector<Bump> bumps;
  auto counter = [&](const char* what, Counter WorkerCounters::*f) {
    bumps.push_back({what, [f](WorkerCounters& w) { (w.*f).add(); }});
  };
  auto tcp = [&](const char* what, Counter TcpCounters::*f) {
    bumps.push_back({std::string("tcp.") + what, [f](WorkerCounters& w) { (w.tcp.*f).add(); }});
  };
  auto server = [&](const char* what, Counter ServerCounters::*f) {
    bumps.push_back({std::string("server.") + what, [f](WorkerCounters& w) { (w.servers[0].*f).add(); }});
  };

  std::vector<Span> worker_fields;
#define WORKER(f) worker_fields.push_back(span(#f, w1, &WorkerCounters::f))
  WORKER(queries), counter("queries", &WorkerCounters::queries);
  WORKER(answers), counter("answers", &WorkerCounters::answers);
  WORKER(client_send_errors), counter("client_send_errors", &WorkerCounters::client_send_errors);
  WORKER(backend_send_errors), counter("backend_send_errors", &WorkerCounters::backend_send_errors);
  WORKER(acl_refused), counter("acl_refused", &WorkerCounters::acl_refused);
  WORKER(acl_dropped), counter("acl_dropped", &WorkerCounters::acl_dropped);
  WORKER(oversized), counter("oversized", &WorkerCounters::oversized);
  WORKER(malformed);
  for (unsigned e = 1; e < kParseErrorCount; ++e) {  // [0] is kOk, never counted
    bumps.push_back({"malformed " + std::to_string(e), [e](WorkerCounters& w) { w.malformed[e].add(); }});
  }
  WORKER(actions);
  for (unsigned a = 0; a < kActionKindCount; ++a) {
    bumps.push_back({"action " + std::to_string(a), [a](WorkerCounters& w) { w.actions[a].add(); }});
  }
  WORKER(forwarded), counter("forwarded", &WorkerCounters::forwarded);
  WORKER(no_server_dropped), counter("no_server_dropped", &WorkerCounters::no_server_dropped);
  WORKER(no_server_servfail), counter("no_server_servfail", &WorkerCounters::no_server_servfail);
  WORKER(timeouts), counter("timeouts", &WorkerCounters::timeouts);
  WORKER(timeout_servfail), counter("timeout_servfail", &WorkerCounters::timeout_servfail);
  WORKER(backend_answers), counter("backend_answers", &WorkerCounters::backend_answers);
  WORKER(latency_udp);
  bumps.push_back({"latency_udp", [](WorkerCounters& w) { w.latency_udp.record(100); }, false});
  WORKER(latency_tcp);
  bumps.push_back({"latency_tcp", [](WorkerCounters& w) { w.latency_tcp.record(100); }, false});
  WORKER(latency_cache);
  bumps.push_back({"latency_cache", [](WorkerCounters& w) { w.latency_cache.record(100); }, false});
  WORKER(answers_by_source);
  for (unsigned s = 0; s < kAnswerSourceCount; ++s) {
    bumps.push_back({"source " + std::to_string(s), [s](WorkerCounters& w) { w.answers_by_source[s].add(); }, false});
  }
  WORKER(answer_rcodes);
  for (unsigned r = 0; r < 16; ++r) {
    bumps.push_back({"rcode " + std::to_string(r), [r](WorkerCounters& w) { w.answer_rcodes[r].add(); }, false});
  }
  WORKER(wrong_source), counter("wrong_source", &WorkerCounters::wrong_source);
  WORKER(unknown_id), counter("unknown_id", &WorkerCounters::unknown_id);
  WORKER(mismatched), counter("mismatched", &WorkerCounters::mismatched);
  WORKER(backend_malformed), counter("backend_malformed", &WorkerCounters::backend_malformed);
  WORKER(truncated_for_client), counter("truncated_for_client", &WorkerCounters::truncated_for_client);
  WORKER(formerr_no_question), counter("formerr_no_question", &WorkerCounters::formerr_no_question);
  WORKER(notimp_opcode), counter("notimp_opcode", &WorkerCounters::notimp_opcode);
  WORKER(no_id), counter("no_id", &WorkerCounters::no_id);
  WORKER(logged), counter("logged", &WorkerCounters::logged);
  WORKER(log_dropped), counter("log_dropped", &WorkerCounters::log_dropped);
  WORKER(random_refills), counter("random_refills", &WorkerCounters::random_refills);
  WORKER(batches), counter("batches", &WorkerCounters::batches);
  WORKER(response_actions);
  for (ActionKind k : {ActionKind::kDrop, ActionKind::kTruncate, ActionKind::kRcode}) {  // a response rule's only ones
    const unsigned a = static_cast<unsigned>(k);
    bumps.push_back({"response action " + std::to_string(a), [a](WorkerCounters& w) { w.response_actions[a].add(); }});
  }
  WORKER(delayed), counter("delayed", &WorkerCounters::delayed);
  WORKER(delay_dropped), counter("delay_dropped", &WorkerCounters::delay_dropped);
  WORKER(tcp);
  WORKER(rule_hits);
  for (uint32_t id = 0; id < reg.rule_count(); ++id) {
    bumps.push_back({"rule " + reg.rule_name(id), [id](WorkerCounters& w) { w.rule_hits[id].add(); }});
  }
  WORKER(tag_hits);
  bumps.push_back({"tag", [](WorkerCounters& w) { w.tag_hits[0].add(); }});
  WORKER(servers);
  WORKER(kernel_evaluated), counter("kernel_evaluated", &WorkerCounters::kernel_evaluated);
  WORKER(lua_no_verdict), counter("lua_no_verdict", &WorkerCounters::lua_no_verdict);
  WORKER(lua_hooks);
  for (auto field : {&HookStats::calls, &HookStats::errors, &HookStats::instruction_stops, &HookStats::memory_stops,
                     &HookStats::nanoseconds, &HookStats::rebuilds}) {
    bumps.push_back({"lua hook", [field](WorkerCounters& w) { HookStats::add(w.lua_hooks[0].*field, 1000); }});
  }
#undef WORKER
  check_covers<WorkerCounters>(worker_fields);

  const TcpCounters& t1 = w1.tcp;
  std::vector<Span> tcp_fields;
#define TCP(f) tcp_fields.push_back(span(#f, t1, &TcpCounters::f)), tcp(#f, &TcpCounters::f)
  TCP(accepted); TCP(open); TCP(refused_total_limit); TCP(refused_client_limit); TCP(acl_dropped); TCP(queries);
  TCP(answers); TCP(closed_by_client); TCP(closed_query_limit); TCP(closed_idle); TCP(closed_duration);
  TCP(closed_buffer); TCP(closed_short_length); TCP(closed_incomplete); TCP(closed_error); TCP(closed_dropped);
  TCP(answers_discarded); TCP(client_paused); TCP(backend_connects); TCP(backend_connect_failures);
  TCP(backend_connect_timeouts); TCP(backend_timeouts); TCP(backend_closed_in_flight); TCP(backend_retries);
  TCP(backend_reused); TCP(backend_busy); TCP(backend_waited); TCP(backend_wait_timeouts); TCP(backend_waiting);
  TCP(backend_malformed); TCP(backend_unknown_id); TCP(backend_mismatched); TCP(servfail);
#undef TCP
  check_covers<TcpCounters>(tcp_fields);
  CHECK(tcp_fields.size() * sizeof(Counter) == sizeof(TcpCounters));

  const ServerCounters& s1 = w1.servers[0];
  std::vector<Span> server_fields;
#define SERVER(f) server_fields.push_back(span(#f, s1, &ServerCounters::f))
  SERVER(queries), server("queries", &ServerCounters::queries);
  SERVER(answers), server("answers", &ServerCounters::answers);
  SERVER(timeouts), server("timeouts", &ServerCounters::timeouts);
  SERVER(send_errors), server("send_errors", &ServerCounters::send_errors);
  SERVER(outstanding), server("outstanding", &ServerCounters::outstanding);
  SERVER(latency_ewma_us);  // one worker's tie-breaker: a sum over workers means nothing, so not in the table
  SERVER(wrong_source), server("wrong_source", &ServerCounters::wrong_source);
  SERVER(unknown_id), server("unknown_id", &ServerCounters::unknown_id);
  SERVER(mismatched), server("mismatched", &ServerCounters::mismatched);
  SERVER(malformed), server("malformed", &ServerCounters::malformed);
  SERVER(full), server("full", &ServerCounters::full);
  SERVER(latency);
  bumps.push_back({"server latency", [](WorkerCounters& w) { w.servers[0].latency.record(5000); }});
#undef SERVER
  check_covers<ServerCounters>(server_fields);

  std::string json = stats_json(c), prometheus = prometheus_text(c);
  for (const Bump& b : bumps) {
    INFO(b.what);
    b.bump(w1);
    std::string json_after = stats_json(c), prometheus_after = prometheus_text(c);
    CHECK((json_after != json) == b.json);
    CHECK((prometheus_after != prometheus) == b.prometheus);
    json = std::move(json_after);
    prometheus = std::move(prometheus_after);
  }
  // Summed over the workers, not read from one.
  reg.worker(0).forwarded.add(2);
  rapidjson::Document d;
  REQUIRE_FALSE(d.Parse(stats_json(c).c_str()).HasParseError());
  CHECK(d["forwarded"].GetUint64() == 3);
  CHECK(d["tcp"]["backend"]["backend_mismatched"].GetUint64() == 1);
  CHECK(d["servers"]["main/192.0.2.1:53"]["no_free_slot"].GetUint64() == 1);
  CHECK(d["servers"]["main/192.0.2.1:53"]["latency_avg_us"].GetUint64() == 2500);  // 5000 us over 2 answers
  CHECK(prometheus_text(c).find("dnspc_forwarded_total 3\n") != std::string::npos);
  CHECK(prometheus_text(c).find("dnspc_tcp_connections_closed_total{reason=\"closed_idle\"} 1\n") != std::string::npos);
}

TEST_CASE("stats keeps rules, tags and servers as objects when there are none", "[runtime][metrics]") {
  const PolicyImage im;
  Registry reg(im, 1);
  const MetricsContext c{&reg, nullptr, 0, {}, {}};
  rapidjson::Document d;
  REQUIRE_FALSE(d.Parse(stats_json(c).c_str()).HasParseError());
  for (const char* k : {"rules", "tags", "servers"}) {
    INFO(k);
    REQUIRE(d.HasMember(k));
    CHECK(d[k].IsObject());
    CHECK(d[k].ObjectEmpty());
  }
}
