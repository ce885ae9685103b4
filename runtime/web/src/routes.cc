// The route table: each route's method, path pattern, the query parameters
// it takes and how its command line is built. A value reaches a command line
// only after its check here: integers in range, names and filters of
// printable characters without spaces (the command table splits at spaces).
#include <algorithm>
#include <cctype>
#include <charconv>

#include "dnspc/runtime/web_routes.h"
#include "text.h"

namespace dnspc::runtime {

namespace {

// What a route's builder reads: the path's captures (decoded), the query's
// parameters (decoded, each named by the route, at most once) and the body.
struct RouteInput {
  std::vector<std::string> captures;
  QueryParams params;
  std::string_view body;

  const std::string* param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

// Builds the command line into `command`; returns 200, or the status of
// what was wrong (with `error`).
using Builder = int (*)(const RouteInput& in, std::string& command, std::string& error);

struct Route {
  std::string_view method;   // "GET" (HEAD too) or "POST"
  std::string_view pattern;  // "/api/v1/top/{kind}": {x} one segment, {x+} one or more
  RouteKind kind;
  std::string_view params;   // the query parameters it takes, space-separated
  std::string_view command;  // the command line, when there is nothing to build
  Builder build = nullptr;
};

// `name` in lo..hi, else `fallback` when absent; false with `error` naming it.
bool integer_param(const RouteInput& in, std::string_view name, uint64_t lo, uint64_t hi,
                   uint64_t fallback, uint64_t& out, std::string& error) {
  const std::string* v = in.param(name);
  if (!v) {
    out = fallback;
    return true;
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size() || n < lo || n > hi) {
    error = "parameter '" + std::string(name) + "' must be an integer from " + std::to_string(lo) +
            " to " + std::to_string(hi);
    return false;
  }
  out = n;
  return true;
}

// Printable, no spaces: what can stand as one word of a command line.
bool word(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}

int build_rules(const RouteInput& in, std::string& command, std::string& error) {
  uint64_t offset = 0, limit = 0;
  if (!integer_param(in, "offset", 0, 1'000'000'000, 0, offset, error) ||
      !integer_param(in, "limit", 1, kMaxRulesLimit, 100, limit, error)) {
    return 400;
  }
  command = "rules " + std::to_string(offset) + " " + std::to_string(limit);
  if (const std::string* f = in.param("filter"); f && !f->empty()) {
    if (!word(*f, kMaxFilterLength)) {
      error = "parameter 'filter' must be at most " + std::to_string(kMaxFilterLength) +
              " characters, without spaces or control characters";
      return 400;
    }
    command += " " + *f;
  }
  return 200;
}

int build_top(const RouteInput& in, std::string& command, std::string& error) {
  static constexpr std::string_view kinds[] = {
      "queries",        "clients", "servfail-names", "servfail-clients",
      "nxdomain-names", "slow",    "rcodes"};
  const std::string& kind = in.captures[0];
  if (std::find(std::begin(kinds), std::end(kinds), kind) == std::end(kinds)) {
    error = "no top list '" + kind +
            "'; the lists are queries, clients, servfail-names, servfail-clients, nxdomain-names, "
            "slow, rcodes";
    return 404;
  }
  uint64_t n = 0, labels = 0;
  if (!integer_param(in, "n", 1, 1000, 10, n, error) ||
      !integer_param(in, "labels", 1, 127, 0, labels, error)) {
    return 400;
  }
  command = "top " + kind + " " + std::to_string(n);
  if (labels) command += " --labels " + std::to_string(labels);
  return 200;
}

int build_series(const RouteInput& in, std::string& command, std::string& error) {
  uint64_t seconds = 0;
  if (!integer_param(in, "seconds", 1, 600, 600, seconds, error)) return 400;
  command = "series " + std::to_string(seconds);
  return 200;
}

int build_metrics(const RouteInput& in, std::string& command, std::string& error) {
  uint64_t all = 0;
  if (!integer_param(in, "all_rules", 0, 1, 0, all, error)) return 400;
  command = all ? "metrics --all-rules" : "metrics";
  return 200;
}

// The documents a dashboard may hold: the read-only routes, by the path
// under /api/v1/ that gives each alone. Parameters are shared: `seconds` for
// the series, `n` and `labels` for the top lists (labels for the name lists
// only), `offset`, `limit` and `filter` for the rules.
int build_dashboard_part(const RouteInput& in, std::string_view key, std::string& command, std::string& error) {
  static constexpr std::pair<std::string_view, std::string_view> plain[] = {
      {"stats", "stats"},      {"servers", "servers"},   {"pools", "pools"},     {"dynblocks", "blocks"},
      {"latency", "latency"},  {"policy", "policy"},     {"overrides", "overrides"}, {"hooks", "hooks"},
      {"cache", "cache"}};
  for (const auto& [k, c] : plain) {
    if (k == key) {
      command = c;
      return 200;
    }
  }
  if (key == "series") return build_series(in, command, error);
  if (key == "rules") return build_rules(in, command, error);
  if (key.starts_with("top/")) {
    RouteInput top;
    top.captures.emplace_back(key.substr(4));
    const bool names = key != "top/clients" && key != "top/servfail-clients" && key != "top/rcodes";
    for (const auto& p : in.params) {
      if (p.first == "n" || (p.first == "labels" && names)) top.params.push_back(p);
    }
    const int status = build_top(top, command, error);
    if (status == 404) error = "no dashboard part '" + std::string(key).substr(0, 64) + "': " + error;
    return status == 404 ? 400 : status;
  }
  error = "no dashboard part '" + std::string(key).substr(0, 64) +
          "'; the parts are series, stats, servers, pools, rules, dynblocks, latency, policy, overrides, hooks, "
          "cache and top/LIST";
  return 400;
}

int build_dashboard(const RouteInput& in, std::vector<DashboardPart>& parts, std::string& error) {
  const std::string* include = in.param("include");
  const std::string list = include ? *include : std::string("series");
  for (std::string_view key : split(list, ',')) {
    if (key.empty()) continue;
    if (std::any_of(parts.begin(), parts.end(), [&](const DashboardPart& p) { return p.key == key; })) continue;
    if (parts.size() == kMaxDashboardParts) {
      error = "parameter 'include' names more than " + std::to_string(kMaxDashboardParts) + " parts";
      return 400;
    }
    DashboardPart part{std::string(key), {}};
    if (const int status = build_dashboard_part(in, key, part.command, error); status != 200) return status;
    parts.push_back(std::move(part));
  }
  if (parts.empty()) {
    error = "parameter 'include' names no part";
    return 400;
  }
  return 200;
}

int build_server_state(const RouteInput& in, std::string& command, std::string& error) {
  const std::string& name = in.captures[0];
  if (!word(name, kMaxServerNameLength)) {
    error = "the server name must be at most " + std::to_string(kMaxServerNameLength) +
            " characters without spaces, as /api/v1/servers lists it (pool/address:port)";
    return 400;
  }
  std::string_view state = in.body;
  while (!state.empty() && std::isspace(static_cast<unsigned char>(state.front())))
    state.remove_prefix(1);
  while (!state.empty() && std::isspace(static_cast<unsigned char>(state.back())))
    state.remove_suffix(1);
  if (state != "up" && state != "down" && state != "auto") {
    error = "the body must be up, down or auto";
    return 400;
  }
  command = "server " + name + " " + std::string(state);
  return 200;
}

// The body: all | name NAME [TYPE] | suffix NAME (the command checks the rest).
int build_cache_purge(const RouteInput& in, std::string& command, std::string& error) {
  std::string body(in.body);
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
  const bool ok = !body.empty() && body.size() <= 300 && std::all_of(body.begin(), body.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_' || ch == ' ';
  });
  if (!ok) {
    error = "the body must be all, name NAME [TYPE] or suffix NAME";
    return 400;
  }
  command = "cache-purge " + body;
  return 200;
}

constexpr Route kRoutes[] = {
    {"GET", "/metrics", RouteKind::kMetrics, "all_rules", "", build_metrics},
    {"GET", "/api/v1/stats", RouteKind::kJson, "", "stats"},
    {"GET", "/api/v1/servers", RouteKind::kJson, "", "servers"},
    {"GET", "/api/v1/pools", RouteKind::kJson, "", "pools"},
    {"GET", "/api/v1/rules", RouteKind::kJson, "offset limit filter", "", build_rules},
    {"GET", "/api/v1/dynblocks", RouteKind::kJson, "", "blocks"},
    {"GET", "/api/v1/top/{kind}", RouteKind::kJson, "n labels", "", build_top},
    {"GET", "/api/v1/latency", RouteKind::kJson, "", "latency"},
    {"GET", "/api/v1/series", RouteKind::kJson, "seconds", "", build_series},
    {"GET", "/api/v1/policy", RouteKind::kJson, "", "policy"},
    {"GET", "/api/v1/overrides", RouteKind::kJson, "", "overrides"},
    {"GET", "/api/v1/hooks", RouteKind::kJson, "", "hooks"},
    {"GET", "/api/v1/cache", RouteKind::kJson, "", "cache"},
    {"GET", "/api/v1/dashboard", RouteKind::kDashboard, "include seconds n labels offset limit filter", ""},
    // Writes: web_writes on and the API key (web_app.cc).
    {"POST", "/api/v1/servers/{name+}/state", RouteKind::kJson, "", "", build_server_state},
    {"POST", "/api/v1/dynblocks/clear", RouteKind::kJson, "", "clear-blocks"},
    {"POST", "/api/v1/reload", RouteKind::kJson, "", "reload"},
    {"POST", "/api/v1/cache/purge", RouteKind::kJson, "", "", build_cache_purge},
};

// "/a/b" -> {"a", "b"}; "/" -> {""}.
std::vector<std::string_view> split_path(std::string_view path) {
  return split(path.substr(1), '/');
}

// Matches the raw segments against the pattern; the captures stay raw
// (decoded by the caller), a {x+} capture joined with '/'.
bool match(std::string_view pattern, const std::vector<std::string_view>& segments,
           std::vector<std::string_view>& captures) {
  const std::vector<std::string_view> want = split_path(pattern);
  captures.clear();
  size_t s = 0;
  for (size_t w = 0; w < want.size(); ++w) {
    const std::string_view p = want[w];
    if (p.size() > 2 && p.front() == '{' && p.ends_with("+}")) {
      const size_t rest = want.size() - w - 1;
      if (segments.size() < s + 1 + rest) return false;
      const size_t take = segments.size() - s - rest;
      const char* begin = segments[s].data();
      const char* end = segments[s + take - 1].data() + segments[s + take - 1].size();
      captures.emplace_back(begin, static_cast<size_t>(end - begin));
      for (size_t k = s; k < s + take; ++k) {
        if (segments[k].empty()) return false;
      }
      s += take;
      continue;
    }
    if (s >= segments.size()) return false;
    if (p.size() > 2 && p.front() == '{') {
      if (segments[s].empty()) return false;
      captures.push_back(segments[s]);
    } else if (p != segments[s]) {
      return false;
    }
    ++s;
  }
  return s == segments.size();
}

bool takes(std::string_view list, std::string_view name) {
  const std::vector<std::string_view> names = split(list, ' ');
  return std::find(names.begin(), names.end(), name) != names.end();
}

RouteResult fail(RouteResult r, int status, std::string error) {
  r.status = status;
  r.error = std::move(error);
  return r;
}

}  // namespace

RouteResult route_request(std::string_view method, std::string_view target, std::string_view body) {
  RouteResult r;
  std::string_view path, query;
  if (!split_target(target, path, query)) return fail(r, 400, "the request target must be a path");
  r.api = path == "/metrics" || path.starts_with("/api/");
  const bool get = method == "GET" || method == "HEAD";

  for (const WebAsset& a : web_assets()) {
    if (a.path != path) continue;
    if (!get) {
      r.allow = "GET, HEAD";
      return fail(r, 405, "");
    }
    // The page's files take no parameters; a query (a cache buster) is ignored.
    r.kind = RouteKind::kAsset;
    r.asset = &a;
    return r;
  }

  const std::vector<std::string_view> segments = split_path(path);
  std::vector<std::string_view> raw;
  const Route* found = nullptr;
  std::string allow;
  for (const Route& route : kRoutes) {
    if (!match(route.pattern, segments, raw)) continue;
    const bool method_ok = route.method == "GET" ? get : method == route.method;
    if (method_ok) {
      found = &route;
      break;
    }
    const std::string_view m = route.method == "GET" ? "GET, HEAD" : route.method;
    if (allow.find(m) == std::string::npos) allow += (allow.empty() ? "" : ", ") + std::string(m);
  }
  if (!found) {
    if (!allow.empty()) {
      r.allow = allow;
      return fail(r, 405, "this path takes " + allow);
    }
    return fail(r, 404, "no such page or API route");
  }

  RouteInput in;
  for (std::string_view c : raw) {
    auto decoded = url_decode(c, false);
    if (!decoded) return fail(r, 400, "a malformed %-escape in the path");
    in.captures.push_back(std::move(*decoded));
  }
  std::string error;
  if (!parse_query_string(query, in.params, error)) return fail(r, 400, error);
  for (size_t i = 0; i < in.params.size(); ++i) {
    const std::string& name = in.params[i].first;
    if (!takes(found->params, name)) {
      return fail(r, 400,
                  "unknown parameter '" + name.substr(0, 64) + "'" +
                      (found->params.empty() ? std::string("; this route takes none")
                                             : "; this route takes " + std::string(found->params)));
    }
    for (size_t j = 0; j < i; ++j) {
      if (in.params[j].first == name)
        return fail(r, 400, "parameter '" + name + "' is given twice");
    }
  }
  in.body = body;
  r.kind = found->kind;
  r.write = found->method == "POST";
  if (found->kind == RouteKind::kDashboard) {
    const int status = build_dashboard(in, r.parts, error);
    if (status != 200) return fail(r, status, error);
  } else if (found->build) {
    const int status = found->build(in, r.command, error);
    if (status != 200) return fail(r, status, error);
  } else {
    r.command = found->command;
  }
  return r;
}

}  // namespace dnspc::runtime
