// WebApp: who may ask, with what credentials, and what answers them.
#include "dnspc/runtime/web_app.h"

#include <cstdlib>
#include <memory>

#include "text.h"

namespace dnspc::runtime {

namespace {

constexpr const char* kPrometheusType = "text/plain; version=0.0.4; charset=utf-8";

HttpResponse route_error(const RouteResult& route) {
  HttpResponse r = route.api ? api_error(route.status, route.error)
                             : http_error(route.status, route.error, false);
  if (!route.allow.empty()) r.headers.emplace_back("Allow", route.allow);
  return r;
}

}  // namespace

WebApp::WebApp(WebAppConfig config) : config_(std::move(config)), throttle_(config_.throttle) {}

bool WebApp::admits(const NetAddress& client) const {
  const WebSpec* s = config_.settings ? config_.settings() : nullptr;
  return s && acl_allows(s->acl, client);
}

void WebApp::send(const Respond& respond, HttpResponse r) {
  if (WebCounters* c = config_.counters) {
    (r.status < 400 ? c->answers_2xx : r.status < 500 ? c->answers_4xx : c->answers_5xx).add();
  }
  respond(std::move(r));
}

void WebApp::unauthorized(const Respond& respond, Counter WebCounters::*reason) {
  if (config_.counters) (config_.counters->*reason).add();
  // An empty body: nothing about the server before credentials.
  HttpResponse r;
  r.status = 401;
  r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"dnspc\"");
  send(respond, std::move(r));
}

void WebApp::handle(const HttpRequest& request, const NetAddress& client, Respond respond) {
  // The ACL again per request: a reload may have narrowed it since the
  // connection was accepted.
  if (!admits(client)) {
    if (config_.counters) config_.counters->refused_acl.add();
    HttpResponse r;
    r.drop = true;
    return respond(std::move(r));
  }
  RouteResult route = route_request(request.method, request.target, request.body);
  const std::string* encoding = request.header("accept-encoding");
  const bool gzip = encoding && accepts_gzip(*encoding);
  const uint64_t now = config_.now_ms();

  // Credentials, the cheapest first. The API key counts for the API and
  // /metrics only; the page needs the password (or its session).
  const std::string* key = request.header("x-api-key");
  if (key && route.api) {
    if (config_.credentials.api_key_hash.empty())
      return unauthorized(respond, &WebCounters::auth_bad_api_key);
    if (api_keys_.matches(*key)) return serve(route, {true, false}, gzip, respond);
    return check_slowly(
        *key, config_.credentials.api_key_hash, client, true, respond,
        [this, route, gzip, respond, k = *key] {
          api_keys_.remember(k);
          serve(route, {true, false}, gzip, respond);
        },
        [this, respond] { unauthorized(respond, &WebCounters::auth_bad_api_key); });
  }
  if (const std::string* cookie = request.header("cookie")) {
    if (sessions_.valid(cookie_value(*cookie, kSessionCookie), now))
      return serve(route, {false, false}, gzip, respond);
  }
  if (const std::string* authorization = request.header("authorization")) {
    if (std::optional<std::string> password = basic_password(*authorization)) {
      return check_slowly(
          std::move(*password), config_.credentials.password_hash, client, route.api, respond,
          [this, route, gzip, respond] {
            serve(route, {false, true}, gzip, respond);
          },
          [this, respond] { unauthorized(respond, &WebCounters::auth_bad_password); });
    }
  }
  unauthorized(respond, &WebCounters::auth_missing);
}

void WebApp::check_slowly(std::string secret, const std::string& hash, const NetAddress& client,
                          bool api, const Respond& respond, std::function<void()> on_ok,
                          std::function<void()> on_bad) {
  const AuthThrottle::Verdict v = throttle_.admit(client, config_.now_ms());
  if (v != AuthThrottle::Verdict::kGo) {
    if (config_.counters) config_.counters->auth_throttled.add();
    const char* why =
        v == AuthThrottle::Verdict::kClientPaused
            ? "a failed login from this address was less than a second ago; retry in a second"
            : "too many logins being checked; retry in a second";
    HttpResponse r = api ? api_error(429, why) : http_error(429, why, false);
    r.headers.emplace_back("Retry-After", "1");
    return send(respond, std::move(r));
  }
  config_.verifier->verify(
      std::move(secret), hash,
      [this, client, on_ok = std::move(on_ok), on_bad = std::move(on_bad)](bool ok) {
        throttle_.finished(client, ok, config_.now_ms());
        ok ? on_ok() : on_bad();
      });
}

void WebApp::serve(const RouteResult& route, Auth auth, bool gzip, const Respond& respond) {
  Respond reply = respond;
  if (auth.new_session) {
    const std::string cookie =
        std::string(kSessionCookie) + "=" + sessions_.issue(config_.now_ms()) +
        "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(kSessionLifetimeMs / 1000);
    reply = [respond, cookie](HttpResponse r) {
      r.headers.emplace_back("Set-Cookie", cookie);
      respond(std::move(r));
    };
  }
  if (route.status != 200) return send(reply, route_error(route));
  if (route.write) {
    const WebSpec* s = config_.settings();
    if (!s || !s->writes) {
      return send(reply,
                  api_error(403, "writes are off: the policy needs `option web_writes on;`"));
    }
    if (!auth.api_key)
      return send(reply, api_error(403, "writes need the API key (the X-API-Key header)"));
  }
  if (route.kind == RouteKind::kAsset) {
    HttpResponse r;
    r.content_type = std::string(route.asset->content_type);
    r.no_store = false;
    r.headers.emplace_back("Vary", "Accept-Encoding");
    if (gzip && !route.asset->gzip.empty()) {
      r.body = std::string(route.asset->gzip);
      r.headers.emplace_back("Content-Encoding", "gzip");
    } else {
      r.body = std::string(route.asset->body);
    }
    return send(reply, std::move(r));
  }
  if (route.kind == RouteKind::kDashboard) return serve_dashboard(route.parts, reply);
  const bool metrics = route.kind == RouteKind::kMetrics;
  config_.command(route.command, [this, metrics, reply](std::string answer) {
    send(reply, metrics ? metrics_answer(std::move(answer)) : api_answer(answer));
  });
}

// The commands run one after another on the control loop (each answers at
// once; none of them is a reload), and the answer is their documents under
// their keys. A part that failed holds its error document; the request as a
// whole succeeded.
void WebApp::serve_dashboard(const std::vector<DashboardPart>& parts, const Respond& respond) {
  struct Pending {
    std::vector<DashboardPart> parts;
    std::string body = "{\"api_version\":1";
    size_t next = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->parts = parts;
  auto step = std::make_shared<std::function<void()>>();
  *step = [this, pending, step, respond]() {
    if (pending->next == pending->parts.size()) {
      pending->body += '}';
      HttpResponse r;
      r.content_type = "application/json";
      r.body = std::move(pending->body);
      send(respond, std::move(r));
      *step = nullptr;  // breaks the cycle step -> closure -> step
      return;
    }
    const DashboardPart& part = pending->parts[pending->next++];
    config_.command(part.command, [pending, step, key = part.key](std::string answer) {
      pending->body += ",\"";
      pending->body += key;  // checked by the route: printable, no quotes
      pending->body += "\":";
      const bool object = !answer.empty() && answer.front() == '{' && answer.back() == '}';
      pending->body += object ? answer : std::string("{\"error\":\"the command's answer is not a JSON object\"}");
      if (*step) (*step)();
    });
  };
  (*step)();
}

bool accepts_gzip(std::string_view accept_encoding) {
  for (std::string_view item : split(accept_encoding, ',')) {
    const size_t semi = item.find(';');
    const std::string_view name = trim(item.substr(0, semi));
    if (name != "gzip" && name != "x-gzip" && name != "*") continue;
    // "gzip;q=0" refuses it; any other weight takes it.
    const size_t q = semi == std::string_view::npos ? semi : item.find("q=", semi);
    if (q == std::string_view::npos) return true;
    const std::string weight(item.substr(q + 2, 5));
    return std::strtod(weight.c_str(), nullptr) > 0;
  }
  return false;
}

HttpResponse metrics_answer(std::string reply) {
  if (!reply.empty() && reply.front() == '{') return api_answer(reply);  // an error document
  HttpResponse r;
  r.content_type = kPrometheusType;
  r.body = std::move(reply);
  return r;
}

}  // namespace dnspc::runtime
