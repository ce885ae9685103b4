// The console's functions: each a list of command lines to run, then a
// rendering of their JSON answers as text (console_functions.h).
#include "dnspc/runtime/console_functions.h"

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "dnspc/lua/console_lua.h"
#include "table.h"

namespace dnspc::runtime::console {

namespace {

using lua::ConsoleArg;
using lua::ConsoleArgs;
using rapidjson::Value;

// What a function asks of the command table, or why it cannot.
struct Plan {
  std::vector<std::string> lines;
  std::string error;
};

struct Function {
  const char* name;
  const char* synopsis;
  const char* help;
  Plan (*plan)(const ConsoleArgs& args);
  // The answers of plan's lines, in order -> the text shown; an error in
  // `error`. Null: the first answer's "message", or the document.
  std::string (*render)(const std::vector<rapidjson::Document>& answers, const ConsoleArgs& args,
                        std::string& error);
};

// ---------------------------------------------------------------- arguments

bool given(const ConsoleArgs& a, size_t i) {
  return i < a.size() && a[i].kind != ConsoleArg::Kind::kNil;
}

// Argument i as a count from 1 to `max`; `fallback` when absent.
std::optional<std::string> count_arg(const ConsoleArgs& a, size_t i, unsigned fallback,
                                     unsigned max, const char* what, std::string& error) {
  if (!given(a, i)) return std::to_string(fallback);
  const std::string& t = a[i].text;
  char* end = nullptr;
  const unsigned long v = std::strtoul(t.c_str(), &end, 10);
  if (a[i].kind != ConsoleArg::Kind::kNumber || t.empty() || *end != '\0' || v < 1 || v > max) {
    error = fmt::format("{} must be a whole number from 1 to {}", what, max);
    return std::nullopt;
  }
  return std::to_string(v);
}

// A name: a string without spaces (the command line splits on them).
std::optional<std::string> word_arg(const ConsoleArgs& a, size_t i, const char* what,
                                    std::string& error) {
  if (!given(a, i) ||
      (a[i].kind != ConsoleArg::Kind::kString && a[i].kind != ConsoleArg::Kind::kNumber)) {
    error = fmt::format("{} must be a string", what);
    return std::nullopt;
  }
  const std::string& t = a[i].text;
  if (t.empty() || t.find_first_of(" \t\r\n") != std::string::npos) {
    error = fmt::format("{} must be one word without spaces", what);
    return std::nullopt;
  }
  return t;
}

Plan one(std::string line) {
  return {{std::move(line)}, ""};
}
Plan failed(std::string error) {
  return {{}, std::move(error)};
}

// ---------------------------------------------------------------- JSON helpers

std::string text_of(const Value& v) {
  if (v.IsString()) return {v.GetString(), v.GetStringLength()};
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "-";
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsNumber()) {
    const double d = v.GetDouble();
    return std::fabs(d) >= 100 || d == std::floor(d) ? fmt::format("{:.0f}", d)
                                                     : fmt::format("{:.3g}", d);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

const Value* member(const Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string field(const Value& v, const char* key) {
  const Value* m = member(v, key);
  return m ? text_of(*m) : "-";
}

double number(const Value& v, const char* key) {
  const Value* m = member(v, key);
  return m && m->IsNumber() ? m->GetDouble() : 0;
}

const Value& array_of(const Value& v, const char* key) {
  static const Value empty(rapidjson::kArrayType);
  const Value* m = member(v, key);
  return m && m->IsArray() ? *m : empty;
}

std::string us_as_ms(double us) {
  return us <= 0 ? "-" : fmt::format("{:.2f}", us / 1000.0);
}

// An array of flat objects as a table whose columns are the first object's keys.
std::string generic_table(const Value& rows) {
  if (!rows.IsArray() || rows.Empty() || !rows[0].IsObject()) return "(none)\n";
  std::vector<std::string> header;
  for (auto& m : rows[0].GetObject())
    header.emplace_back(m.name.GetString(), m.name.GetStringLength());
  TextTable t(header);
  for (const Value& r : rows.GetArray()) {
    std::vector<std::string> row;
    for (const std::string& h : header) row.push_back(field(r, h.c_str()));
    t.add(std::move(row));
  }
  return t.render();
}

// Every leaf of a document as "a.b.c value", one a line.
void flatten(const Value& v, const std::string& prefix, std::string& out) {
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) {
      flatten(m.value, prefix.empty() ? m.name.GetString() : prefix + "." + m.name.GetString(),
              out);
    }
    return;
  }
  out += prefix + " " + text_of(v) + "\n";
}

// ---------------------------------------------------------------- the functions

std::string render_servers(const std::vector<rapidjson::Document>& a, const ConsoleArgs& args,
                           std::string& error) {
  std::string pool;
  if (given(args, 0)) {
    if (args[0].kind != ConsoleArg::Kind::kString) {
      error = "showServers: the pool must be a string";
      return "";
    }
    pool = args[0].text;
  }
  const Value& servers = array_of(a[0], "servers");
  // The queries of the last complete second, per server: the QPS column.
  const Value* last = nullptr;
  const Value& samples = array_of(a[1], "samples");
  if (!samples.Empty()) last = member(samples[samples.Size() - 1], "servers");
  TextTable t({"#", "name", "address", "pool", "state", "qps", "limit", "order", "weight",
               "queries", "drops", "lat ms", "tcp lat ms", "outstanding"});
  double qps_total = 0, queries_total = 0, drops_total = 0, outstanding_total = 0;
  bool forced_any = false;
  size_t i = 0;
  for (const Value& s : servers.GetArray()) {
    if (!pool.empty() && field(s, "pool") != pool) continue;
    const std::string key = field(s, "key");
    std::string state = field(s, "state");
    if (const Value* f = member(s, "forced"); f && f->IsString()) {
      state += "*";
      forced_any = true;
    } else if (field(s, "mode") != "auto") {
      state += " (policy)";
    }
    double qps = 0;
    if (last) {
      if (const Value* one = member(*last, key.c_str())) qps = number(*one, "queries");
    }
    const double drops =
        number(s, "timeouts") + number(s, "send_errors") + number(s, "no_free_slot");
    qps_total += qps;
    queries_total += number(s, "queries");
    drops_total += drops;
    outstanding_total += number(s, "outstanding");
    const double qps_limit = number(s, "qps_limit");
    t.add({std::to_string(i++), key, field(s, "address"), field(s, "pool"), state,
           fmt::format("{:.0f}", qps), qps_limit > 0 ? fmt::format("{:.0f}", qps_limit) : "-",
           field(s, "order"), field(s, "weight"), fmt::format("{:.0f}", number(s, "queries")),
           fmt::format("{:.0f}", drops), us_as_ms(number(s, "latency_avg_us")),
           us_as_ms(number(s, "tcp_latency_avg_us")),
           fmt::format("{:.0f}", number(s, "outstanding"))});
  }
  t.add_footer({"", "All", "", "", "", fmt::format("{:.0f}", qps_total), "", "", "",
                fmt::format("{:.0f}", queries_total), fmt::format("{:.0f}", drops_total), "", "",
                fmt::format("{:.0f}", outstanding_total)});
  std::string out = t.render();
  if (forced_any) out += "* forced by setServerState (showOverrides)\n";
  return out;
}

std::string render_pools(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                         std::string&) {
  TextTable t({"name", "policy", "on_no_server", "servers"});
  for (const Value& p : array_of(a[0], "pools").GetArray()) {
    std::string servers;
    for (const Value& s : array_of(p, "servers").GetArray())
      servers += (servers.empty() ? "" : ", ") + text_of(s);
    std::string policy = field(p, "policy");
    if (member(p, "lua_policy")) policy += " " + field(p, "lua_policy");
    t.add({field(p, "name"), policy, field(p, "on_no_server"), servers});
  }
  return t.render();
}

Plan plan_rules(const ConsoleArgs& a) {
  std::string filter, top = "100";
  if (given(a, 0)) {
    if (a[0].kind != ConsoleArg::Kind::kTable)
      return failed("showRules takes a table: showRules{filter=\"ads\", top=20}");
    for (const auto& [k, v] : a[0].fields) {
      if (k == "filter") {
        if (v.empty() || v.find_first_of(" \t\r\n") != std::string::npos) {
          return failed("filter must be one word without spaces");
        }
        filter = v;
      } else if (k == "top") {
        char* end = nullptr;
        const unsigned long n = std::strtoul(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || n < 1 || n > 100'000)
          return failed("top must be a whole number from 1 to 100000");
        top = std::to_string(n);
      } else {
        return failed(fmt::format("showRules takes filter= and top=, not {}=", k));
      }
    }
  }
  return one(fmt::format("rules 0 {}{}", top, filter.empty() ? "" : " " + filter));
}

std::string render_rules(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                         std::string&) {
  const Value& rules = array_of(a[0], "rules");
  TextTable t({"#", "name", "kind", "action", "hits"});
  size_t i = 0;
  for (const Value& r : rules.GetArray()) {
    t.add({std::to_string(i++), field(r, "name"), field(r, "kind"), field(r, "action"),
           field(r, "hits")});
  }
  std::string out = t.render();
  out += fmt::format("{} shown of {} matching, {} rules in all\n", rules.Size(),
                     field(a[0], "matching"), field(a[0], "total"));
  return out;
}

std::string render_top(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                       std::string&) {
  const double total = number(a[0], "total");
  TextTable t({"#", "what", "count", "share"});
  size_t i = 0;
  for (const Value& e : array_of(a[0], "top").GetArray()) {
    const double count = number(e, "count");
    t.add({std::to_string(++i), field(e, "key"), fmt::format("{:.0f}", count),
           total > 0 ? fmt::format("{:.1f}%", 100.0 * count / total) : "-"});
  }
  return t.render() +
         fmt::format("{:.0f} matching of {} recent records\n", total, field(a[0], "records"));
}

Plan plan_top(const char* kind, const ConsoleArgs& a, size_t labels_at) {
  std::string error;
  auto n = count_arg(a, 0, 10, 1000, "n", error);
  if (!n) return failed(error);
  std::string line = fmt::format("top {} {}", kind, *n);
  if (labels_at && given(a, labels_at)) {
    auto k = count_arg(a, labels_at, 0, 127, "labels", error);
    if (!k) return failed(error);
    line += " --labels " + *k;
  }
  return one(line);
}

Plan plan_top_responses(const ConsoleArgs& a) {
  std::string error;
  auto n = count_arg(a, 0, 10, 1000, "n", error);
  if (!n) return failed(error);
  auto rcode = word_arg(a, 1, "rcode (like \"NXDOMAIN\")", error);
  if (!rcode) return failed(error);
  std::string line = fmt::format("top responses {} {}", *rcode, *n);
  if (given(a, 2)) {
    auto k = count_arg(a, 2, 0, 127, "labels", error);
    if (!k) return failed(error);
    line += " --labels " + *k;
  }
  return one(line);
}

// Recent records (top slow, grep) as a table.
std::string records_table(const Value& rows, double min_latency_us) {
  TextTable t({"age ms", "client", "qname", "qtype", "transport", "rule", "action", "server",
               "rcode", "latency ms"});
  for (const Value& r : rows.GetArray()) {
    if (number(r, "latency_us") < min_latency_us) continue;
    t.add({field(r, "age_ms"), field(r, "client"), field(r, "qname"), field(r, "qtype"),
           field(r, "transport"), field(r, "rule"), field(r, "action"), field(r, "server"),
           field(r, "rcode"), member(r, "latency_us") ? us_as_ms(number(r, "latency_us")) : "-"});
  }
  return t.empty() ? "(none)\n" : t.render();
}

std::string render_slow(const std::vector<rapidjson::Document>& a, const ConsoleArgs& args,
                        std::string& error) {
  double min_us = 0;
  if (given(args, 1)) {
    if (args[1].kind != ConsoleArg::Kind::kNumber) {
      error = "ms must be a number of milliseconds";
      return "";
    }
    min_us = std::strtod(args[1].text.c_str(), nullptr) * 1000.0;
  }
  return records_table(array_of(a[0], "top"), min_us);
}

Plan plan_grep(const ConsoleArgs& a) {
  std::string error;
  auto what = word_arg(a, 0, "the pattern or netmask", error);
  if (!what) return failed(error);
  auto n = count_arg(a, 1, 100, 100'000, "n", error);
  if (!n) return failed(error);
  return one(fmt::format("grep {} {}", *what, *n));
}

std::string render_grep(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                        std::string&) {
  for (auto& m : a[0].GetObject()) {
    if (m.value.IsArray()) return records_table(m.value, 0);
  }
  return "(none)\n";
}

// One distribution as bars: each bucket that has answers, and the empty
// ones between, with its bound, its count and a bar scaled to the largest.
void histogram(const Value& bounds, const Value& d, const std::string& title, std::string& out) {
  const Value& buckets = array_of(d, "buckets");
  out += fmt::format("{}: {} answers, p50 {} ms, p90 {} ms, p99 {} ms\n", title, field(d, "count"),
                     us_as_ms(number(d, "p50_us")), us_as_ms(number(d, "p90_us")),
                     us_as_ms(number(d, "p99_us")));
  size_t first = buckets.Size(), last = 0;
  double peak = 0;
  for (size_t i = 0; i < buckets.Size(); ++i) {
    const double c = buckets[i].IsNumber() ? buckets[i].GetDouble() : 0;
    if (c > 0) {
      first = std::min(first, i);
      last = i;
      peak = std::max(peak, c);
    }
  }
  if (first == buckets.Size()) {
    out += "  (no answers yet)\n";
    return;
  }
  constexpr int kWidth = 50;
  for (size_t i = first; i <= last; ++i) {
    const double c = buckets[i].GetDouble();
    const std::string bound = i < bounds.Size()
                                  ? fmt::format("<= {:>9.3f} ms", bounds[i].GetDouble() / 1000.0)
                                  : std::string("    > the rest");
    const int bar = c > 0 ? std::max(1, static_cast<int>(std::lround(kWidth * c / peak))) : 0;
    out += fmt::format("  {} {:>9.0f} {}\n", bound, c, std::string(static_cast<size_t>(bar), '#'));
  }
}

std::string render_latency(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                           std::string&) {
  const Value& bounds = array_of(a[0], "bounds_us");
  std::string out;
  if (const Value* o = member(a[0], "overall")) histogram(bounds, *o, "overall", out);
  if (const Value* servers = member(a[0], "servers"); servers && servers->IsObject()) {
    for (auto& m : servers->GetObject()) histogram(bounds, m.value, m.name.GetString(), out);
  }
  return out;
}

std::string render_blocks(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                          std::string&) {
  std::string out;
  const Value& blocks = array_of(a[0], "blocks");
  if (blocks.Empty()) {
    out += "no dynamic block in force\n";
  } else {
    TextTable t({"prefix", "dynblock", "reason", "action", "seconds left", "hits"});
    for (const Value& b : blocks.GetArray()) {
      t.add({field(b, "prefix"), field(b, "block"), field(b, "reason"), field(b, "action"),
             fmt::format("{:.0f}", number(b, "expires_in_ms") / 1000.0), field(b, "hits")});
    }
    out += t.render();
  }
  const Value& totals = array_of(a[0], "totals");
  if (!totals.Empty()) {
    TextTable t({"dynblock", "active", "hits"});
    for (const Value& b : totals.GetArray())
      t.add({field(b, "block"), field(b, "active"), field(b, "hits")});
    out += t.render();
  }
  return out;
}

Plan plan_clear(const ConsoleArgs& a) {
  if (!given(a, 0)) return one("clear-blocks");
  std::string error;
  auto name = word_arg(a, 0, "the dynblock's name", error);
  if (!name) return failed(error);
  return one("clear-blocks " + *name);
}

Plan plan_set_state(const ConsoleArgs& a) {
  std::string error;
  auto server = word_arg(a, 0, "the server (as showServers names it)", error);
  if (!server) return failed(error);
  auto state = word_arg(a, 1, "the state (\"up\", \"down\" or \"auto\")", error);
  if (!state) return failed(error);
  if (*state != "up" && *state != "down" && *state != "auto")
    return failed("the state is \"up\", \"down\" or \"auto\"");
  return one(fmt::format("server {} {}", *server, *state));
}

std::string render_flat(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                        std::string&) {
  std::string out;
  flatten(a[0], "", out);
  return out;
}

std::string render_overrides(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                             std::string&) {
  const Value& servers = array_of(a[0], "servers");
  if (servers.Empty()) return "no server is forced\n";
  return generic_table(servers);
}

std::string render_cleared(const std::vector<rapidjson::Document>& a, const ConsoleArgs& args,
                           std::string&) {
  return fmt::format("released {} dynamic block(s){}\n", field(a[0], "cleared"),
                     given(args, 0) ? " of " + args[0].text : std::string());
}

std::string render_server_state(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                                std::string&) {
  const std::string forced = field(a[0], "forced");
  return fmt::format("{}: {}, now {} (its health checks say {})\n", field(a[0], "server"),
                     forced == "-" ? "handed back to its health checks" : "forced " + forced,
                     field(a[0], "state"), field(a[0], "checked"));
}

Plan plan_reload(const ConsoleArgs& a) {
  if (!given(a, 0)) return one("reload");
  if (a[0].kind != ConsoleArg::Kind::kString || a[0].text.empty())
    return failed("reload takes a path as a string");
  if (a[0].text.find_first_of("\r\n") != std::string::npos)
    return failed("the path must be one line");
  return one("reload " + a[0].text);
}

std::string render_reload(const std::vector<rapidjson::Document>& a, const ConsoleArgs&,
                          std::string& error) {
  const Value* ok = member(a[0], "ok");
  if (ok && ok->IsBool() && !ok->GetBool()) {
    error = "reload rejected: " + field(a[0], "message");
    const std::string diagnostics = field(a[0], "diagnostics");
    if (!diagnostics.empty() && diagnostics != "-") error += "\n" + diagnostics;
    return "";
  }
  std::string out = "reloaded";
  if (member(a[0], "message")) out += ": " + field(a[0], "message");
  return out + "\n";
}

Plan none(const ConsoleArgs&) {
  return {};
}

std::string render_version(const std::vector<rapidjson::Document>&, const ConsoleArgs&,
                           std::string&) {
  return std::string("dnspc ") + DNSPC_VERSION + "\n";
}

std::string render_help(const std::vector<rapidjson::Document>&, const ConsoleArgs&, std::string&);

const Function kFunctions[] = {
    {"help", "help()", "this list", none, render_help},
    {"showServers", "showServers([pool])",
     "each server (of pool): address, pool, state (* forced), QPS, limit, order, weight, queries, "
     "drops, latency, outstanding",
     [](const ConsoleArgs&) {
       return Plan{{"servers", "series 2"}, ""};
     },
     render_servers},
    {"showPools", "showPools()", "each pool's load-balancing policy, on_no_server and servers",
     [](const ConsoleArgs&) { return one("pools"); }, render_pools},
    {"showRules", "showRules{filter=\"ads\", top=100}",
     "the rules (whose name holds filter), with actions and hits", plan_rules, render_rules},
    {"topQueries", "topQueries(n[, labels])",
     "the most frequent query names (grouped by their last labels)",
     [](const ConsoleArgs& a) { return plan_top("queries", a, 1); }, render_top},
    {"topClients", "topClients(n)", "the clients sending the most queries",
     [](const ConsoleArgs& a) { return plan_top("clients", a, 0); }, render_top},
    {"topResponses", "topResponses(n, rcode[, labels])", "the names answered most often with rcode",
     plan_top_responses, render_top},
    {"topServFailNames", "topServFailNames(n)", "the names answered SERVFAIL most often",
     [](const ConsoleArgs& a) { return plan_top("servfail-names", a, 0); }, render_top},
    {"topServFailClients", "topServFailClients(n)", "the clients answered SERVFAIL most often",
     [](const ConsoleArgs& a) { return plan_top("servfail-clients", a, 0); }, render_top},
    {"topSlow", "topSlow(n[, ms])", "the slowest backend answers (only those over ms)",
     [](const ConsoleArgs& a) { return plan_top("slow", a, 0); }, render_slow},
    {"grepq", "grepq(pattern or netmask[, n])",
     "the newest answers whose name matches (* any run) or client is in", plan_grep, render_grep},
    {"showLatency", "showLatency()", "backend answer latency histograms, overall and per server",
     [](const ConsoleArgs&) { return one("latency"); }, render_latency},
    {"showDynBlocks", "showDynBlocks()", "the dynamic blocks in force and each dynblock's totals",
     [](const ConsoleArgs&) { return one("blocks"); }, render_blocks},
    {"clearDynBlocks", "clearDynBlocks([name])",
     "lift every dynamic block, or those of one dynblock", plan_clear, render_cleared},
    {"setServerState", "setServerState(server, \"up\"|\"down\"|\"auto\")",
     "force a server up or down, or hand it back to its health checks", plan_set_state,
     render_server_state},
    {"showOverrides", "showOverrides()", "the servers forced by setServerState",
     [](const ConsoleArgs&) { return one("overrides"); }, render_overrides},
    {"reload", "reload([path])",
     "reload the policy (or path), atomically; the diagnostics when rejected", plan_reload,
     render_reload},
    {"stats", "stats()", "every counter", [](const ConsoleArgs&) { return one("stats"); },
     render_flat},
    {"version", "version()", "dnspc's version", none, render_version},
};

std::string render_help(const std::vector<rapidjson::Document>&, const ConsoleArgs&, std::string&) {
  TextTable t({"function", "what"});
  for (const Function& f : kFunctions) t.add({f.synopsis, f.help});
  return t.render() + "Any Lua 5.4 also runs; --json shows the commands' documents as they are.\n";
}

// Runs lines[i...] one after the other (a reply may come later), then `done`.
void run_all(const CommandRunner& command, std::shared_ptr<std::vector<std::string>> lines,
             size_t i, std::shared_ptr<std::vector<std::string>> replies,
             std::function<void()> done) {
  if (i == lines->size()) return done();
  command((*lines)[i], [command, lines, i, replies, done](std::string reply) {
    replies->push_back(std::move(reply));
    run_all(command, lines, i + 1, replies, done);
  });
}

void call(const Function& f, const CommandRunner& command, bool json, const ConsoleArgs& args,
          lua::ConsoleReturn done) {
  Plan plan = f.plan(args);
  if (!plan.error.empty()) return done({"", fmt::format("{}: {}", f.name, plan.error)});
  auto lines = std::make_shared<std::vector<std::string>>(std::move(plan.lines));
  auto replies = std::make_shared<std::vector<std::string>>();
  run_all(command, lines, 0, replies, [&f, json, args, replies, done] {
    std::vector<rapidjson::Document> docs(replies->size());
    for (size_t i = 0; i < replies->size(); ++i) {
      docs[i].Parse((*replies)[i].c_str());
      if (docs[i].HasParseError() || !docs[i].IsObject()) docs[i].SetObject();
      if (const Value* e = member(docs[i], "error"))
        return done({"", fmt::format("{}: {}", f.name, text_of(*e))});
    }
    if (json) {
      // The first command's document, as the web API serves it; help and
      // version have none of their own.
      if (!replies->empty()) return done({(*replies)[0] + "\n", ""});
      if (std::string_view(f.name) == "version")
        return done({fmt::format("{{\"version\":\"{}\"}}\n", DNSPC_VERSION), ""});
    }
    std::string error;
    std::string text = f.render(docs, args, error);
    if (!error.empty()) return done({"", error});
    done({std::move(text), ""});
  });
}

}  // namespace

void add_console_functions(lua::ConsoleLua& lua, CommandRunner command,
                           std::function<bool()> json) {
  for (const Function& f : kFunctions) {
    lua.add_function(f.name, [&f, command, json](const ConsoleArgs& args, lua::ConsoleReturn done) {
      call(f, command, json(), args, std::move(done));
    });
  }
}

std::vector<std::string> console_function_names() {
  std::vector<std::string> out;
  for (const Function& f : kFunctions) out.emplace_back(f.name);
  return out;
}

// ---------------------------------------------------------------- completion

std::string_view completion_word(std::string_view before) {
  size_t start = before.find_last_of(" \t\"'(){}[],=;");
  return start == std::string_view::npos ? before : before.substr(start + 1);
}

namespace {

// The document a command answers at once (every command but reload does).
rapidjson::Document answer_now(const CommandRunner& command, const std::string& line) {
  rapidjson::Document d;
  d.SetObject();
  std::string reply;
  bool answered = false;
  command(line, [&](std::string r) {
    reply = std::move(r);
    answered = true;
  });
  if (answered) d.Parse(reply.c_str());
  if (d.HasParseError() || !d.IsObject()) d.SetObject();
  return d;
}

std::vector<std::string> names_in(const Value& rows, const char* key) {
  std::vector<std::string> out;
  if (!rows.IsArray()) return out;
  for (const Value& r : rows.GetArray()) {
    if (const Value* v = member(r, key); v && v->IsString())
      out.emplace_back(v->GetString(), v->GetStringLength());
  }
  return out;
}

// What a string argument takes: by the function called and the argument's
// position (0-based), or by the table field being written.
std::vector<std::string> argument_names(const CommandRunner& command, std::string_view function,
                                        size_t position, std::string_view table_field) {
  if (function == "setServerState" && position == 0) {
    return names_in(array_of(answer_now(command, "servers"), "servers"), "key");
  }
  if (function == "setServerState" && position == 1) return {"up", "down", "auto"};
  if (function == "clearDynBlocks" && position == 0) {
    return names_in(array_of(answer_now(command, "blocks"), "totals"), "block");
  }
  if (function == "topResponses" && position == 1) {
    return {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
            "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  }
  if (function == "showRules" && table_field == "filter") {
    return names_in(array_of(answer_now(command, "rules 0 100000"), "rules"), "name");
  }
  if (function == "showServers" && position == 0) {
    return names_in(array_of(answer_now(command, "pools"), "pools"), "name");
  }
  return {};
}

}  // namespace

std::vector<std::string> complete_line(const lua::ConsoleLua& lua, const CommandRunner& command,
                                       std::string_view before) {
  const std::string_view word = completion_word(before);
  const std::string_view head = before.substr(0, before.size() - word.size());
  std::vector<std::string> pool;
  // Inside a string: an open quote before the word, with its function call
  // (and the argument's position, or the table field) before that.
  if (!head.empty() && (head.back() == '"' || head.back() == '\'')) {
    size_t depth = 0, position = 0;
    std::string_view table_field;
    size_t i = head.size() - 1;
    // `showRules{filter="`: the field's name before '='.
    if (i > 0 && head[i - 1] == '=') {
      std::string_view before_eq = head.substr(0, i - 1);
      while (!before_eq.empty() && before_eq.back() == ' ') before_eq.remove_suffix(1);
      table_field = completion_word(before_eq);
    }
    // Back to the unclosed '(' or '{' of this call, counting commas at its level.
    while (i-- > 0) {
      const char c = head[i];
      if (c == ')' || c == '}') ++depth;
      if ((c == '(' || c == '{') && depth-- == 0) break;
      if (c == ',' && depth == 0) ++position;
    }
    if (i != static_cast<size_t>(-1)) {
      std::string_view callee = head.substr(0, i);
      while (!callee.empty() && callee.back() == ' ') callee.remove_suffix(1);
      pool = argument_names(command, completion_word(callee), position, table_field);
    }
  } else if (const size_t dot = word.rfind('.'); dot != std::string_view::npos) {
    const std::string table(word.substr(0, dot));
    for (const std::string& f : lua.field_names(table)) pool.push_back(table + "." + f);
  } else {
    pool = lua.global_names();
  }
  std::vector<std::string> out;
  for (std::string& p : pool) {
    if (p.size() >= word.size() && std::string_view(p).substr(0, word.size()) == word)
      out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace dnspc::runtime::console
