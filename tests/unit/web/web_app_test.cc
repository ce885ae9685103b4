// WebApp without sockets: the ACL, every credential path (Basic then the
// cookie, the API key and its cache, the rate limits), writes, the page's
// files, and command answers shaped for HTTP.
#include <sodium.h>
#include <catch2/catch.hpp>

#include <deque>
#include <map>

#include "dnspc/runtime/web_app.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

std::string cheap_hash(std::string_view secret) {
  REQUIRE(web_crypto_init());
  return hash_password(secret, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
}

std::string basic(std::string_view user_password) {
  std::string out(sodium_base64_ENCODED_LEN(user_password.size(), sodium_base64_VARIANT_ORIGINAL),
                  '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(user_password.data()),
                    user_password.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return "Basic " + out;
}

// Checks for real, but answers only when the test says (or at once).
class TestVerifier : public SecretVerifier {
 public:
  void verify(std::string secret, std::string hash, std::function<void(bool)> done) override {
    ++calls;
    const bool ok = verify_password_hash(hash, secret);
    if (immediate) return done(ok);
    waiting.emplace_back(ok, std::move(done));
  }
  void release_all() {
    while (!waiting.empty()) {
      auto [ok, done] = std::move(waiting.front());
      waiting.pop_front();
      done(ok);
    }
  }
  bool immediate = true;
  int calls = 0;
  std::deque<std::pair<bool, std::function<void(bool)>>> waiting;
};

struct Fixture {
  Fixture() {
    spec.acl.push_back({*NetAddress::parse("127.0.0.0"), 8});
    spec.acl.push_back({*NetAddress::parse("::1"), 128});
    WebAppConfig c;
    c.credentials.password_hash = cheap_hash("pw");
    c.credentials.api_key_hash = cheap_hash("key");
    c.command = [this](std::string_view line, std::function<void(std::string)> reply) {
      commands.emplace_back(line);
      auto it = replies.find(std::string(line));
      reply(it != replies.end() ? it->second
                                : std::string("{\"line\":\"") + std::string(line) + "\"}");
    };
    c.settings = [this] { return &spec; };
    c.verifier = &verifier;
    c.counters = &counters;
    c.now_ms = [this] { return now; };
    app = std::make_unique<WebApp>(std::move(c));
  }

  // One request; the answer (status 0 when none came yet).
  HttpResponse ask(const std::string& method, const std::string& target,
                   std::vector<std::pair<std::string, std::string>> headers = {},
                   const std::string& body = "", const char* from = "127.0.0.1") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers = std::move(headers);
    r.body = body;
    last = HttpResponse{};
    last.status = 0;
    app->handle(r, *NetAddress::parse(from), [this](HttpResponse out) { last = std::move(out); });
    return last;
  }

  static std::string header(const HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }

  WebSpec spec;
  TestVerifier verifier;
  WebCounters counters;
  uint64_t now = 5'000;
  std::vector<std::string> commands;
  std::map<std::string, std::string> replies;
  std::unique_ptr<WebApp> app;
  HttpResponse last;
};

}  // namespace

TEST_CASE("app: a client outside web_acl is dropped without an answer", "[web]") {
  Fixture f;
  CHECK(f.app->admits(*NetAddress::parse("127.0.0.1")));
  CHECK(f.app->admits(
      *NetAddress::parse("::ffff:127.0.0.9")));  // a dual-stack listener's IPv4 client
  CHECK_FALSE(f.app->admits(*NetAddress::parse("192.0.2.1")));
  HttpResponse r =
      f.ask("GET", "/api/v1/stats", {{"authorization", basic("u:pw")}}, "", "192.0.2.1");
  CHECK(r.drop);
  CHECK(f.counters.refused_acl.get() == 1);
  CHECK(f.verifier.calls == 0);
  // The ACL follows the settings (a reload).
  f.spec.acl.push_back({*NetAddress::parse("192.0.2.0"), 24});
  CHECK(f.app->admits(*NetAddress::parse("192.0.2.1")));
}

TEST_CASE("app: without credentials everything is 401 with an empty body", "[web]") {
  Fixture f;
  for (const char* target : {"/", "/api/v1/stats", "/metrics", "/nope"}) {
    HttpResponse r = f.ask("GET", target);
    CHECK(r.status == 401);
    CHECK(r.body.empty());
    CHECK(Fixture::header(r, "WWW-Authenticate") == "Basic realm=\"dnspc\"");
  }
  CHECK(f.counters.auth_missing.get() == 4);
  CHECK(f.commands.empty());
}

TEST_CASE("app: a password is checked once, then the session cookie is enough", "[web]") {
  Fixture f;
  HttpResponse r = f.ask("GET", "/api/v1/stats", {{"authorization", basic("anyone:pw")}});
  REQUIRE(r.status == 200);
  CHECK(f.verifier.calls == 1);
  const std::string set_cookie = Fixture::header(r, "Set-Cookie");
  REQUIRE(set_cookie.rfind("dnspc_session=", 0) == 0);
  CHECK(set_cookie.find("; HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("; SameSite=Strict") != std::string::npos);
  CHECK(set_cookie.find("; Path=/") != std::string::npos);
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));

  r = f.ask("GET", "/api/v1/servers", {{"cookie", "other=1; " + cookie}});
  CHECK(r.status == 200);
  CHECK(f.verifier.calls == 1);  // no second slow check
  CHECK(Fixture::header(r, "Set-Cookie").empty());
  CHECK(f.commands == std::vector<std::string>{"stats", "servers"});

  // Expired: back to 401.
  f.now += kSessionLifetimeMs;
  CHECK(f.ask("GET", "/api/v1/servers", {{"cookie", cookie}}).status == 401);
}

TEST_CASE("app: a wrong password is 401, and that client then waits a second (429)", "[web]") {
  Fixture f;
  HttpResponse r = f.ask("GET", "/", {{"authorization", basic("u:wrong")}});
  CHECK(r.status == 401);
  CHECK(f.counters.auth_bad_password.get() == 1);
  r = f.ask("GET", "/", {{"authorization", basic("u:pw")}});
  CHECK(r.status == 429);
  CHECK(Fixture::header(r, "Retry-After") == "1");
  CHECK(f.verifier.calls == 1);  // the second never reached the slow check
  CHECK(f.counters.auth_throttled.get() == 1);
  // Another address is not held back.
  CHECK(f.ask("GET", "/", {{"authorization", basic("u:pw")}}, "", "127.0.0.2").status == 200);
  f.now += 1000;
  CHECK(f.ask("GET", "/", {{"authorization", basic("u:pw")}}).status == 200);
}

TEST_CASE("app: at most two slow checks run at once, the rest get 429 at once", "[web]") {
  Fixture f;
  f.verifier.immediate = false;
  CHECK(f.ask("GET", "/", {{"authorization", basic("u:pw")}}, "", "127.0.0.1").status == 0);
  CHECK(f.ask("GET", "/", {{"authorization", basic("u:pw")}}, "", "127.0.0.2").status == 0);
  CHECK(f.ask("GET", "/", {{"authorization", basic("u:pw")}}, "", "127.0.0.3").status == 429);
  CHECK(f.app->throttle().running() == 2);
  f.verifier.release_all();
  CHECK(f.app->throttle().running() == 0);
  CHECK(f.last.status == 200);
}

TEST_CASE("app: the API key works for the API and metrics, and is hashed slowly once", "[web]") {
  Fixture f;
  f.replies["metrics"] = "# HELP dnspc_x x\n# TYPE dnspc_x gauge\ndnspc_x 1\n";
  HttpResponse r = f.ask("GET", "/metrics", {{"x-api-key", "key"}});
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body == f.replies["metrics"]);
  CHECK(Fixture::header(r, "Set-Cookie").empty());  // no session for a key
  for (int i = 0; i < 5; ++i)
    CHECK(f.ask("GET", "/api/v1/stats", {{"x-api-key", "key"}}).status == 200);
  CHECK(f.verifier.calls == 1);
  CHECK(f.ask("GET", "/api/v1/stats", {{"x-api-key", "nope"}}).status == 401);
  CHECK(f.counters.auth_bad_api_key.get() == 1);
  // Not for the page: it needs the password.
  CHECK(f.ask("GET", "/", {{"x-api-key", "key"}}).status == 401);
}

TEST_CASE("app: no API key configured refuses any key", "[web]") {
  Fixture f;
  WebAppConfig c;
  c.credentials.password_hash = cheap_hash("pw");
  c.command = [](std::string_view, std::function<void(std::string)> reply) { reply("{}"); };
  c.settings = [&f] { return &f.spec; };
  c.verifier = &f.verifier;
  c.now_ms = [] { return uint64_t{1}; };
  f.app = std::make_unique<WebApp>(std::move(c));
  CHECK(f.ask("GET", "/api/v1/stats", {{"x-api-key", "key"}}).status == 401);
  CHECK(f.verifier.calls == 0);
}

TEST_CASE("app: writes need web_writes and the API key", "[web]") {
  Fixture f;
  const std::vector<std::pair<std::string, std::string>> key = {{"x-api-key", "key"}};
  const std::vector<std::pair<std::string, std::string>> pw = {{"authorization", basic("u:pw")}};
  HttpResponse r = f.ask("POST", "/api/v1/servers/main%2F127.0.0.1:53/state", key, "down");
  CHECK(r.status == 403);
  CHECK(r.body.find("web_writes") != std::string::npos);
  f.spec.writes = true;
  f.now += 2000;
  r = f.ask("POST", "/api/v1/servers/main%2F127.0.0.1:53/state", pw, "down");
  CHECK(r.status == 403);
  CHECK(r.body.find("X-API-Key") != std::string::npos);
  CHECK(f.commands.empty());
  r = f.ask("POST", "/api/v1/servers/main%2F127.0.0.1:53/state", key, "down");
  CHECK(r.status == 200);
  CHECK(f.commands == std::vector<std::string>{"server main/127.0.0.1:53 down"});
  // A read path named with POST is still 405, a write path with GET too.
  CHECK(f.ask("GET", "/api/v1/reload", key).status == 405);
  CHECK(f.ask("POST", "/api/v1/stats", key).status == 405);
}

TEST_CASE("app: route errors come after the credentials, as JSON under /api", "[web]") {
  Fixture f;
  const std::vector<std::pair<std::string, std::string>> key = {{"x-api-key", "key"}};
  CHECK(f.ask("GET", "/api/v1/nope").status == 401);
  HttpResponse r = f.ask("GET", "/api/v1/nope", key);
  CHECK(r.status == 404);
  CHECK(r.content_type == "application/json");
  CHECK(r.body.rfind("{\"api_version\":1,\"error\":", 0) == 0);
  r = f.ask("DELETE", "/api/v1/stats", key);
  CHECK(r.status == 405);
  CHECK(Fixture::header(r, "Allow") == "GET, HEAD");
  r = f.ask("GET", "/api/v1/rules?limit=9999", key);
  CHECK(r.status == 400);
  CHECK(r.body.find("'limit'") != std::string::npos);
  CHECK(f.commands.empty());
}

TEST_CASE("app: the page's files, gzip when the client takes it", "[web]") {
  Fixture f;
  const std::vector<std::pair<std::string, std::string>> pw = {{"authorization", basic("u:pw")}};
  HttpResponse r = f.ask("GET", "/", pw);
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(r.body.find("<html") != std::string::npos);
  CHECK(Fixture::header(r, "Content-Encoding").empty());
  CHECK_FALSE(r.no_store);
  const std::string cookie =
      Fixture::header(r, "Set-Cookie").substr(0, Fixture::header(r, "Set-Cookie").find(';'));
  r = f.ask("GET", "/app.js", {{"cookie", cookie}, {"accept-encoding", "deflate, gzip;q=0.5"}});
  REQUIRE(r.status == 200);
  CHECK(Fixture::header(r, "Content-Encoding") == "gzip");
  CHECK(Fixture::header(r, "Vary") == "Accept-Encoding");
  CHECK(r.body.rfind("\x1f\x8b", 0) == 0);
  CHECK(accepts_gzip("gzip"));
  CHECK(accepts_gzip("br, *"));
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip; q=0.000"));
  CHECK_FALSE(accepts_gzip("identity, br"));
  CHECK_FALSE(accepts_gzip(""));
}

TEST_CASE("app: command answers get api_version first and a status from their content", "[web]") {
  HttpResponse r = api_answer("{\"a\":1}");
  CHECK(r.status == 200);
  CHECK(r.body == "{\"api_version\":1,\"a\":1}");
  CHECK(r.content_type == "application/json");
  CHECK(api_answer("{}").body == "{\"api_version\":1}");
  CHECK(api_answer("{\"error\":\"usage: top LIST\",\"usage\":\"x\"}").status == 400);
  CHECK(api_answer("{\"error\":\"unknown server 'x'\",\"servers\":[]}").status == 404);
  CHECK(api_answer("{\"error\":\"unknown dynblock 'x'\",\"dynblocks\":[]}").status == 404);
  CHECK(api_answer("{\"error\":\"unknown command 'pools'\",\"command\":\"pools\",\"commands\":[]}")
            .status == 501);
  CHECK(api_answer("{\"ok\":false,\"message\":\"rejected\"}").status == 422);
  CHECK(api_answer("{\"ok\":true}").status == 200);
  CHECK(api_answer("[1]").status == 500);
  CHECK(api_answer("not json").status == 500);
  CHECK(api_answer("{\"api_version\":1}").body == "{\"api_version\":1}");
  CHECK(metrics_answer("dnspc_x 1\n").status == 200);
  CHECK(metrics_answer("{\"error\":\"usage: metrics\",\"usage\":\"metrics\"}").status == 400);
  CHECK(api_error(403, "no \"way\"").body == "{\"api_version\":1,\"error\":\"no \\\"way\\\"\"}");
}

TEST_CASE("app: answers are counted by status class", "[web]") {
  Fixture f;
  f.ask("GET", "/api/v1/stats", {{"x-api-key", "key"}});
  f.ask("GET", "/api/v1/nope", {{"x-api-key", "key"}});
  f.ask("GET", "/api/v1/stats");
  f.replies["stats"] = "garbage";
  f.ask("GET", "/api/v1/stats", {{"x-api-key", "key"}});
  CHECK(f.counters.answers_2xx.get() == 1);
  CHECK(f.counters.answers_4xx.get() == 2);
  CHECK(f.counters.answers_5xx.get() == 1);
}

TEST_CASE("app: acl_allows matches prefixes of either family", "[web]") {
  std::vector<Prefix> acl = {{*NetAddress::parse("10.1.0.0"), 17},
                             {*NetAddress::parse("2001:db8::"), 32}};
  CHECK(acl_allows(acl, *NetAddress::parse("10.1.127.255")));
  CHECK_FALSE(acl_allows(acl, *NetAddress::parse("10.1.128.0")));
  CHECK(acl_allows(acl, *NetAddress::parse("2001:db8:ffff::1")));
  CHECK_FALSE(acl_allows(acl, *NetAddress::parse("2001:db9::1")));
  CHECK(acl_allows(acl, *NetAddress::parse("::ffff:10.1.0.1")));
  CHECK_FALSE(acl_allows({}, *NetAddress::parse("127.0.0.1")));
  CHECK(acl_allows({{*NetAddress::parse("0.0.0.0"), 0}}, *NetAddress::parse("192.0.2.1")));
}

TEST_CASE("app: a dashboard answers each part's document under its key", "[web]") {
  Fixture f;
  f.replies["servers"] = "{\"servers\":[],\"pools\":[]}";
  f.replies["blocks"] = "{\"error\":\"no policy here\"}";
  HttpResponse r = f.ask("GET", "/api/v1/dashboard?include=series,servers,dynblocks,top/queries&seconds=2&n=3",
                         {{"authorization", basic("u:pw")}});
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(r.body ==
        "{\"api_version\":1,\"series\":{\"line\":\"series 2\"},\"servers\":{\"servers\":[],\"pools\":[]},"
        "\"dynblocks\":{\"error\":\"no policy here\"},\"top/queries\":{\"line\":\"top queries 3\"}}");
  CHECK(f.commands == std::vector<std::string>{"series 2", "servers", "blocks", "top queries 3"});
  // Not a write, and no part may be one.
  CHECK(f.ask("GET", "/api/v1/dashboard?include=reload", {{"authorization", basic("u:pw")}}).status == 400);
  CHECK(f.commands.size() == 4);
}
