#include "dnspc/runtime/commands.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>
#include <cstring>

#include "dnspc/cache_wire.h"
#include "dnspc/dns_names.h"
#include "dnspc/wire.h"

#include "dnspc/runtime/active_policy.h"
#include "block_evaluator.h"
#include "policy_views.h"
#include "dnspc/runtime/log.h"
#include "dnspc/runtime/registry.h"
#include "reloader.h"
#include "dnspc/runtime/metrics.h"
#include "dnspc/runtime/series.h"
#include "dnspc/runtime/stats.h"
#include "dnspc/runtime/traffic_views.h"

namespace dnspc::runtime {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string_value(Writer& w, std::string_view v) { w.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); }

void string_field(Writer& w, const char* key, std::string_view v) {
  w.Key(key);
  string_value(w, v);
}

std::string done(const rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

// {"error": TEXT} plus, when given, a list of what would have been accepted.
std::string error_json(std::string_view text, const char* list_key = nullptr,
                       const std::vector<std::string>& list = {}) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  string_field(w, "error", text);
  if (list_key) {
    w.Key(list_key);
    w.StartArray();
    for (const std::string& s : list) string_value(w, s);
    w.EndArray();
  }
  w.EndObject();
  return done(buf);
}

const char* state_name(bool up) { return up ? "up" : "down"; }

const char* forced_name(ServerMode m) {
  return m == ServerMode::kUp ? "up" : m == ServerMode::kDown ? "down" : nullptr;
}

std::string now_utc() {
  char ts[32];
  format_timestamp(ts);
  return ts;
}

// `stats`, `servers` and `metrics` read the uptime and the last reload from
// the context.
void refresh(CommandContext& c) {
  c.stats->version = DNSPC_VERSION;
  c.stats->uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.started).count();
  if (c.reloader && c.reloader->has_last()) {
    const ReloadOutcome& o = c.reloader->last();
    c.stats->last_reload = {true,        o.ok,       o.time,    o.message, o.diagnostics,
                            o.compile_ms, o.swap_ms, c.reloader->reloads(), c.reloader->failures()};
  }
}

void run_stats(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  if (!c.stats) return reply(error_json("no statistics here"));
  refresh(c);
  reply(stats_json(*c.stats));
}

void run_servers(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  if (!c.stats) return reply(error_json("no servers here"));
  refresh(c);
  reply(servers_json(*c.stats));
}

void run_latency(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  if (!c.stats) return reply(error_json("no statistics here"));
  reply(latency_json(*c.stats));
}

const ActivePolicy* current_policy(const CommandContext& c) {
  return c.current ? c.current->load(std::memory_order_acquire) : nullptr;
}

// Prometheus text, not JSON: the one command whose answer is not a document.
// Per-rule hits only for rules with hits, unless --all-rules.
void run_metrics(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  if (!c.registry || !c.stats) return reply(error_json("no metrics here"));
  if (!args.empty() && args[0] != "--all-rules") return reply(error_json("metrics takes only --all-rules"));
  refresh(c);
  reply(prometheus_text(*c.stats, !args.empty()));
}

void run_pools(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!p) return reply(error_json("no policy here"));
  reply(pools_json(*p));
}

// rules [OFFSET [LIMIT [FILTER]]]: one page of the rules, by default the first 100.
void run_rules(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!c.registry || !p) return reply(error_json("no policy here"));
  size_t numbers[2] = {0, 100};
  for (size_t i = 0; i < 2 && i < args.size(); ++i) {
    char* end = nullptr;
    numbers[i] = std::strtoul(args[i].c_str(), &end, 10);
    if (args[i].empty() || *end != '\0') return reply(error_json("rules takes OFFSET and LIMIT as numbers"));
  }
  if (numbers[1] == 0 || numbers[1] > 100'000) return reply(error_json("rules: LIMIT is 1 to 100000"));
  reply(rules_json(*p, *c.registry, numbers[0], numbers[1], args.size() > 2 ? args[2] : std::string()));
}

void run_policy(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!p || !c.stats) return reply(error_json("no policy here"));
  reply(policy_json(*p, c.stats->last_reload));
}

void run_series(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  if (!c.series) return reply(error_json("no series here"));
  size_t seconds = SeriesSampler::kSeconds;
  if (!args.empty()) {
    char* end = nullptr;
    seconds = std::strtoul(args[0].c_str(), &end, 10);
    if (!end || *end != '\0' || seconds == 0) return reply(error_json("series takes a number of seconds"));
  }
  reply(c.series->json(seconds));
}

std::string joined(const CommandArgs& args) {
  std::string out;
  for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

void run_top(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!c.registry || !p) return reply(error_json("no traffic here"));
  TopRequest request;
  std::string error = parse_top(joined(args), request);
  if (!error.empty()) return reply(error_json(error));
  reply(top_json(*c.registry, *p, request, steady_now_ns()));
}

void run_grep(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!c.registry || !p) return reply(error_json("no traffic here"));
  reply(grep_json(*c.registry, *p, joined(args), steady_now_ns()));
}

// {"blocks": [{"prefix", "block", "reason", "action", "expires_in_ms", "hits"}, ...],
//  "totals": [{"block", "active", "hits"}, ...]}
std::string blocks_json(const BlockEngine* engine, uint64_t now_ns) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("blocks");
  w.StartArray();
  if (engine) {
    for (const BlockListing& l : engine->list()) {
      w.StartObject();
      string_field(w, "prefix", l.prefix);
      string_field(w, "block", l.block);
      string_field(w, "reason", l.reason);
      string_field(w, "action", l.action);
      w.Key("expires_in_ms");
      w.Uint64(l.expiry_ns > now_ns ? (l.expiry_ns - now_ns) / 1'000'000 : 0);
      w.Key("hits");
      w.Uint64(l.hits);
      w.EndObject();
    }
  }
  w.EndArray();
  w.Key("totals");
  w.StartArray();
  if (engine) {
    for (const BlockTotal& t : engine->totals()) {
      w.StartObject();
      string_field(w, "block", t.block);
      w.Key("active");
      w.Uint64(t.active);
      w.Key("hits");
      w.Uint64(t.hits);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void run_blocks(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  const ActivePolicy* p = c.current ? c.current->load(std::memory_order_acquire) : nullptr;
  reply(blocks_json(p ? p->blocks.get() : nullptr, steady_now_ns()));
}

void run_reload(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  if (!c.reloader) return reply("{\"ok\":false,\"message\":\"reloads are not available yet\"}");
  Registry* registry = c.registry;
  c.reloader->reload(args.empty() ? std::string() : args[0],
                     [registry, reply](const ReloadOutcome& o) { reply(reload_json(o, registry)); });
}

// The servers an operator may name: those `ctl servers` lists, and any still
// forced after a reload removed it (so the override can be lifted).
std::vector<std::string> nameable_servers(const Registry& r) {
  std::vector<std::string> keys;
  for (uint32_t id = 0; id < r.server_count(); ++id) {
    const ServerEntry& e = r.server(id);
    if (e.live || e.forced != ServerMode::kAuto) keys.push_back(e.key);
  }
  return keys;
}

void run_server(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  if (!c.registry) return reply(error_json("no servers here"));
  const std::string& key = args[0];
  const std::string& verb = args[1];
  ServerMode mode;
  if (verb == "up") {
    mode = ServerMode::kUp;
  } else if (verb == "down") {
    mode = ServerMode::kDown;
  } else if (verb == "auto") {
    mode = ServerMode::kAuto;
  } else {
    return reply(error_json("server " + key + ": '" + verb + "' is not up, down or auto"));
  }
  Registry& r = *c.registry;
  const int id = r.find_server(key);
  if (id < 0 || (!r.server(id).live && r.server(id).forced == ServerMode::kAuto)) {
    return reply(error_json("unknown server '" + key + "'", "servers", nameable_servers(r)));
  }
  ServerEntry& e = r.server(static_cast<uint32_t>(id));
  e.force(mode, now_utc());
  log(LogLevel::kInfo, mode == ServerMode::kAuto ? "server back to its checks" : "server forced",
      {{"server", e.key}, {"state", state_name(e.up.load(std::memory_order_relaxed))}});
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("ok");
  w.Bool(true);
  string_field(w, "server", e.key);
  w.Key("forced");
  if (const char* f = forced_name(e.forced)) {
    w.String(f);
  } else {
    w.Null();
  }
  string_field(w, "state", state_name(e.up.load(std::memory_order_relaxed)));
  string_field(w, "checked", state_name(e.health_up()));
  w.EndObject();
  reply(done(buf));
}

void run_overrides(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  if (!c.registry) return reply(error_json("no servers here"));
  const Registry& r = *c.registry;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("servers");
  w.StartArray();
  for (uint32_t id = 0; id < r.server_count(); ++id) {
    const ServerEntry& e = r.server(id);
    const char* f = forced_name(e.forced);
    if (!f) continue;
    w.StartObject();
    string_field(w, "server", e.key);
    string_field(w, "forced", f);
    string_field(w, "since", e.forced_at);
    string_field(w, "checked", state_name(e.health_up()));
    w.Key("live");
    w.Bool(e.live);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  reply(done(buf));
}

// {"pools": [{"pool", "capacity", "entry_size", "memory_bytes", "entries", "hits", "misses", "collisions",
// "evictions", "stale_served", "insert_failures", "stored", "not_cacheable", "settings": {...}}]}: each
// cache of the running policy, its counters summed over the workers.
void run_cache(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!p) return reply(error_json("no policy here"));
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("pools");
  w.StartArray();
  for (const BoundPool& pool : p->pools) {
    if (!pool.cache) continue;
    const PoolCache& pc = *pool.cache;
    w.StartObject();
    string_field(w, "pool", pool.name);
    const std::pair<const char*, uint64_t> numbers[] = {
        {"capacity", pc.store.capacity()},
        {"entry_size", pc.store.entry_size()},
        {"memory_bytes", pc.store.memory_bytes()},
        {"entries", pc.store.used()},
        {"hits", pc.sum(&CacheCounters::hits)},
        {"misses", pc.sum(&CacheCounters::misses)},
        {"collisions", pc.sum(&CacheCounters::collisions)},
        {"evictions", pc.sum(&CacheCounters::evictions)},
        {"stale_served", pc.sum(&CacheCounters::stale_served)},
        {"insert_failures", pc.sum(&CacheCounters::insert_failures)},
        {"stored", pc.sum(&CacheCounters::stored)},
        {"not_cacheable", pc.sum(&CacheCounters::not_cacheable)},
    };
    for (const auto& [key, value] : numbers) {
      w.Key(key);
      w.Uint64(value);
    }
    w.Key("settings");
    w.StartObject();
    const std::pair<const char*, uint32_t> settings[] = {
        {"min_ttl_s", pc.spec.min_ttl_s},       {"max_ttl_s", pc.spec.max_ttl_s},
        {"max_negative_ttl_s", pc.spec.max_negative_ttl_s}, {"servfail_ttl_s", pc.spec.servfail_ttl_s},
        {"stale_s", pc.spec.stale_s}};
    for (const auto& [key, value] : settings) {
      w.Key(key);
      w.Uint(value);
    }
    w.Key("stale_on_timeout");
    w.Bool(pool.cache_stale_on_timeout);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  reply(done(buf));
}

// cache-purge all | name NAME [TYPE] | suffix NAME: from every pool's cache.
// Walks each cache once on the main loop (every tag; the key of each used slot).
void run_cache_purge(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!p) return reply(error_json("no policy here"));
  const std::string& how = args[0];
  const char* usage = "cache-purge takes all, name NAME [TYPE] or suffix NAME";
  if (how == "all" ? args.size() != 1 : how == "name" ? args.size() < 2 : how == "suffix" ? args.size() != 2 : true) {
    return reply(error_json(usage));
  }
  uint8_t wire[kMaxNameLength + 1];
  size_t wire_length = 0;
  std::optional<uint16_t> type;
  if (how != "all") {
    wire_length = encode_name(args[1], wire, sizeof wire);
    if (wire_length == 0) return reply(error_json("'" + args[1] + "' is not a DNS name"));
    for (size_t i = 0; i < wire_length; ++i) {
      if (wire[i] >= 'A' && wire[i] <= 'Z') wire[i] = static_cast<uint8_t>(wire[i] + 32);
    }
    if (args.size() == 3) {
      type = qtype_from_name(args[2]);
      if (!type) return reply(error_json("'" + args[2] + "' is not a query type, like A or AAAA"));
    }
  }
  const bool suffix = how == "suffix";
  auto match = [&](const uint8_t* key, size_t size) {
    if (how == "all") return true;
    CacheKeyView k;
    if (!read_cache_key(key, size, k)) return false;
    if (type && k.qtype != *type) return false;
    if (!suffix) return k.name_length == wire_length && std::memcmp(k.name, wire, wire_length) == 0;
    // At a label boundary of the name: walk its labels.
    for (size_t off = 0; off < k.name_length; off += 1u + k.name[off]) {
      if (k.name_length - off == wire_length && std::memcmp(k.name + off, wire, wire_length) == 0) return true;
      if (k.name[off] == 0) break;
    }
    return false;
  };
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("ok");
  w.Bool(true);
  w.Key("purged");
  w.StartObject();
  uint64_t total = 0;
  for (const BoundPool& pool : p->pools) {
    if (!pool.cache) continue;
    const uint64_t n = pool.cache->store.purge(match);
    total += n;
    w.Key(pool.name.c_str());
    w.Uint64(n);
  }
  w.EndObject();
  w.EndObject();
  log(LogLevel::kInfo, "cache purged", {{"what", how + (args.size() > 1 ? " " + args[1] : std::string())}, {"purged", total}});
  reply(done(buf));
}

void run_clear_blocks(CommandContext& c, const CommandArgs& args, const CommandReply& reply) {
  const ActivePolicy* p = c.current ? c.current->load(std::memory_order_acquire) : nullptr;
  const std::string name = args.empty() ? std::string() : args[0];
  long cleared = p && p->blocks ? p->blocks->clear(name) : (name.empty() ? 0 : -1);
  if (cleared < 0) {
    std::vector<std::string> names;
    if (p && p->blocks) {
      for (const BlockSpec& s : p->blocks->specs()) names.push_back(s.name);
    }
    return reply(error_json("unknown dynblock '" + name + "'", "dynblocks", names));
  }
  log(LogLevel::kInfo, "dynamic blocks cleared",
      {{"dynblock", name.empty() ? std::string("all") : name}, {"released", static_cast<uint64_t>(cleared)}});
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("ok");
  w.Bool(true);
  w.Key("cleared");
  w.Uint64(static_cast<uint64_t>(cleared));
  w.EndObject();
  reply(done(buf));
}

// {"hooks": [{"hook", "calls", "errors", "instruction_stops", "memory_stops",
// "rebuilds", "seconds", "mean_us"}, ...], "actions_without_verdict",
// "limits": {"instructions", "memory_bytes"}, "files": [...]}: the running
// policy's Lua hooks, summed over the workers' states.
void run_hooks(CommandContext& c, const CommandArgs&, const CommandReply& reply) {
  const ActivePolicy* p = current_policy(c);
  if (!c.registry || !p) return reply(error_json("no policy here"));
  const Registry& r = *c.registry;
  auto sum = [&r](uint32_t id, std::atomic<uint64_t> HookStats::*f) {
    uint64_t total = 0;
    for (unsigned w = 0; w < r.worker_count(); ++w) total += HookStats::get(r.worker(w).lua_hooks[id].*f);
    return total;
  };
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("hooks");
  w.StartArray();
  for (const std::string& name : p->image->lua.hooks) {
    const int found = r.find_lua_hook(name);
    if (found < 0) continue;
    const uint32_t id = static_cast<uint32_t>(found);
    const uint64_t calls = sum(id, &HookStats::calls), ns = sum(id, &HookStats::nanoseconds);
    w.StartObject();
    string_field(w, "hook", name);
    w.Key("calls");
    w.Uint64(calls);
    w.Key("errors");
    w.Uint64(sum(id, &HookStats::errors));
    w.Key("instruction_stops");
    w.Uint64(sum(id, &HookStats::instruction_stops));
    w.Key("memory_stops");
    w.Uint64(sum(id, &HookStats::memory_stops));
    w.Key("rebuilds");
    w.Uint64(sum(id, &HookStats::rebuilds));
    w.Key("seconds");
    w.Double(static_cast<double>(ns) / 1e9);
    w.Key("mean_us");
    w.Double(calls ? static_cast<double>(ns) / 1e3 / static_cast<double>(calls) : 0.0);
    w.EndObject();
  }
  w.EndArray();
  w.Key("actions_without_verdict");
  uint64_t fell_through = 0;
  for (unsigned k = 0; k < r.worker_count(); ++k) fell_through += r.worker(k).lua_no_verdict.get();
  w.Uint64(fell_through);
  w.Key("limits");
  w.StartObject();
  w.Key("instructions");
  w.Uint64(p->image->lua.call_instructions);
  w.Key("memory_bytes");
  w.Uint64(p->image->lua.memory_bytes);
  w.EndObject();
  w.Key("files");
  w.StartArray();
  for (const auto& file : p->image->lua.files) string_value(w, file.first);
  w.EndArray();
  w.EndObject();
  reply(done(buf));
}

void run_help(CommandContext&, const CommandArgs&, const CommandReply& reply) { reply(commands_json()); }

constexpr ControlCommand kCommands[] = {
    {"stats", "", "every counter, summed over the workers", 0, 0, false, run_stats},
    {"servers", "", "each server's state, override, figures and health checks; each pool's servers", 0, 0, false,
     run_servers},
    {"latency", "", "backend answer latency distributions: overall, per transport, per server", 0, 0, false,
     run_latency},
    {"metrics", "[--all-rules]",
     "every metric in the Prometheus text format (not JSON); per-rule hits for rules with hits, or all", 0, 1, false,
     run_metrics},
    {"pools", "", "each pool's load-balancing policy, on_no_server and servers", 0, 0, false, run_pools},
    {"rules", "[OFFSET [LIMIT [FILTER]]]",
     "one page of the rules with their actions and hits (default 0 100), names holding FILTER only", 0, 3, false,
     run_rules},
    {"policy", "", "the running policy: file, source hash, when compiled, sizes, the last reload", 0, 0, false,
     run_policy},
    {"series", "[SECONDS]", "the per-second samples of the last SECONDS (at most 600)", 0, 1, false, run_series},
    {"top", "queries|clients|servfail-names|servfail-clients|nxdomain-names|rcodes|slow|responses RCODE [N] [--labels K]",
     "the N most frequent names, clients, ... in recent traffic (the rings), or the N slowest answers", 1, 5, false,
     run_top},
    {"grep", "PATTERN|NETMASK|rcode=RCODE [N]",
     "the newest N recent answers whose name matches PATTERN (* any run), whose client is in NETMASK, or with RCODE",
     1, 2, false, run_grep},
    {"blocks", "", "the dynamic blocks in force and each dynblock's totals", 0, 0, false, run_blocks},
    {"hooks", "", "each Lua hook's calls, failures, budget stops and time, summed over the workers' states", 0, 0,
     false, run_hooks},
    {"reload", "[PATH]",
     "reload the policy (or PATH, which becomes the policy); answers once it runs on every worker or was rejected",
     0, 1, true, run_reload},
    {"server", "NAME up|down|auto",
     "force a server (pool/address:port, as `servers` lists it) up or down whatever its health checks say, or "
     "hand it back to them; survives reloads",
     2, 2, false, run_server},
    {"overrides", "", "the servers forced by `server`, with when and what their checks say meanwhile", 0, 0, false,
     run_overrides},
    {"clear-blocks", "[NAME]",
     "release every dynamic block in force, or only those of the dynblock NAME, and forget what they counted", 0, 1,
     false, run_clear_blocks},
    {"cache", "", "each pool's packet cache: entries, hits, misses, collisions, evictions, stale answers, insert failures",
     0, 0, false, run_cache},
    {"cache-purge", "all|name NAME [TYPE]|suffix NAME",
     "remove answers from every pool's cache: all, those of NAME (of TYPE only), or of NAME and every name under it", 1,
     3, false, run_cache_purge},
    {"help", "", "this table", 0, 0, false, run_help},
};

std::string usage(const ControlCommand& cmd) {
  std::string u(cmd.name);
  if (!cmd.args.empty()) {
    u += ' ';
    u += cmd.args;
  }
  return u;
}

}  // namespace

std::span<const ControlCommand> control_commands() { return kCommands; }

std::string commands_json() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("commands");
  w.StartArray();
  for (const ControlCommand& cmd : kCommands) {
    w.StartObject();
    string_field(w, "name", cmd.name);
    string_field(w, "args", cmd.args);
    string_field(w, "help", cmd.help);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return done(buf);
}

void dispatch_command(CommandContext& c, std::string_view line, const CommandReply& reply) {
  auto skip_spaces = [&](size_t i) {
    while (i < line.size() && line[i] == ' ') ++i;
    return i;
  };
  size_t start = skip_spaces(0);
  size_t end = line.find(' ', start);
  std::string_view name = line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  const ControlCommand* cmd = nullptr;
  for (const ControlCommand& k : kCommands) {
    if (k.name == name) cmd = &k;
  }
  if (!cmd) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    string_field(w, "error", "unknown command '" + std::string(name) + "'");
    string_field(w, "command", name);
    w.Key("commands");
    w.StartArray();
    for (const ControlCommand& k : kCommands) string_value(w, k.name);
    w.EndArray();
    w.EndObject();
    return reply(done(buf));
  }
  CommandArgs args;
  size_t i = end == std::string_view::npos ? line.size() : end;
  while ((i = skip_spaces(i)) < line.size()) {
    if (cmd->rest_of_line && args.size() + 1 == cmd->max_args) {
      // As typed after the one space that ends the name (the old "reload PATH").
      args.emplace_back(line.substr(end + 1));
      break;
    }
    size_t next = line.find(' ', i);
    if (next == std::string_view::npos) next = line.size();
    args.emplace_back(line.substr(i, next - i));
    i = next;
  }
  if (args.size() < cmd->min_args || args.size() > cmd->max_args) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    string_field(w, "error", "usage: " + usage(*cmd));
    string_field(w, "command", cmd->name);
    string_field(w, "usage", usage(*cmd));
    w.EndObject();
    return reply(done(buf));
  }
  cmd->run(c, args, reply);
}

}  // namespace dnspc::runtime
