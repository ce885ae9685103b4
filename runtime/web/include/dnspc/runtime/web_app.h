// The web server without sockets: one request from one client in, one
// answer out (now, or later once a credential check or a command is done).
// In order: the client must be in web_acl (else the connection is dropped
// without a word); credentials (X-API-Key for the API, a session cookie,
// HTTP Basic); the route (web_routes.h); for a write, web_writes and the
// API key; then the page's file, or the control command and its answer
// shaped for HTTP (api_answer). docs/web.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/runtime/policy_image.h"
#include "dnspc/runtime/web_auth.h"
#include "dnspc/runtime/web_counters.h"
#include "dnspc/runtime/web_http.h"
#include "dnspc/runtime/web_routes.h"
#include "dnspc/runtime/web_throttle.h"
#include "dnspc/runtime/web_verifier.h"

namespace dnspc::runtime {

// Runs one control command line (commands.h); the reply may come later.
using CommandRunner =
    std::function<void(std::string_view line, std::function<void(std::string reply)> reply)>;

struct WebAppConfig {
  WebCredentials credentials;
  CommandRunner command;
  // The running policy's web settings (ACL, writes); read on each request,
  // so they follow reloads. Never null while the server runs.
  std::function<const WebSpec*()> settings;
  SecretVerifier* verifier = nullptr;
  WebCounters* counters = nullptr;   // may be null
  std::function<uint64_t()> now_ms;  // the loop's monotonic clock
  AuthThrottle::Limits throttle;
};

class WebApp {
 public:
  using Respond = std::function<void(HttpResponse)>;

  explicit WebApp(WebAppConfig config);

  // Whether `client` may connect: the running policy's web_acl.
  bool admits(const NetAddress& client) const;
  void handle(const HttpRequest& request, const NetAddress& client, Respond respond);

  const AuthThrottle& throttle() const { return throttle_; }

 private:
  struct Auth {
    bool api_key = false;      // X-API-Key: may write
    bool new_session = false;  // a password was checked: send a cookie
  };
  void check_slowly(std::string secret, const std::string& hash, const NetAddress& client, bool api,
                    const Respond& respond, std::function<void()> on_ok,
                    std::function<void()> on_bad);
  void serve(const RouteResult& route, Auth auth, bool gzip, const Respond& respond);
  void serve_dashboard(const std::vector<DashboardPart>& parts, const Respond& respond);
  void unauthorized(const Respond& respond, Counter WebCounters::*reason);
  void send(const Respond& respond, HttpResponse r);

  WebAppConfig config_;
  SessionKeys sessions_;
  ApiKeyCache api_keys_;
  AuthThrottle throttle_;
};

// Whether `client` is in one of the prefixes; an IPv4-mapped IPv6 address
// (a dual-stack listener's IPv4 client) counts as its IPv4 address.
bool acl_allows(const std::vector<Prefix>& acl, const NetAddress& client);
// ::ffff:a.b.c.d -> a.b.c.d; any other address unchanged.
NetAddress unmap_v4(const NetAddress& a);

// Whether an Accept-Encoding header takes gzip (and not with q=0).
bool accepts_gzip(std::string_view accept_encoding);

// A command's JSON answer as an HTTP answer: "api_version":1 first in the
// object; an {"error": ...} answer becomes 400, 404 when it names what
// exists instead (an unknown server or dynblock), 501 when this dnspc has no
// such command; {"ok": false} (a rejected reload) becomes 422; anything but
// an object, 500.
HttpResponse api_answer(std::string_view reply);
// `metrics`: Prometheus text, or the command's error as above.
HttpResponse metrics_answer(std::string reply);
// {"api_version":1,"error":MESSAGE} with that status.
HttpResponse api_error(int status, std::string_view message);

}  // namespace dnspc::runtime
