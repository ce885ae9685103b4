// The web server of `dnspc run` (docs/web.md): the page and the JSON API on
// the policy's `web ADDR:PORT;`, on the main thread's libuv loop. It sees
// the runtime through its config only: a function that runs a control
// command line (the one command table, commands.h), the running policy's
// web settings, the counters. So it sits below the control plane, which
// starts it, and links nothing of it.
//
// The pieces, each unit-tested without a socket: HttpConnection
// (web_http.h: HTTP/1.1 and its limits), the routes (web_routes.h), the
// credentials (web_auth.h, web_throttle.h, web_verifier.h) and WebApp
// (web_app.h), which puts them together. This file adds the sockets.
#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "dnspc/net_address.h"
#include "dnspc/runtime/web_app.h"
#include "dnspc/runtime/web_http.h"

namespace dnspc::runtime {

struct WebServerConfig {
  NetAddress address;
  // The credentials, the command runner, the settings and the counters; the
  // server fills in the verifier (libuv's thread pool) and the clock.
  WebAppConfig app;
  HttpLimits limits;
  unsigned max_connections = 256;  // past it: accepted and closed at once
};

class WebServer {
 public:
  WebServer(uv_loop_t* loop, WebServerConfig config);
  ~WebServer();

  // Listens; false with `error` naming the address and the fix.
  bool start(std::string& error);
  // Stops listening and closes every connection (commands or credential
  // checks still running answer nobody).
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The limits of docs/web.md. DNSPC_WEB_HEADER_TIMEOUT_MS (for tests only)
// replaces the 10 s a request has to arrive in.
HttpLimits web_limits_from_env();

}  // namespace dnspc::runtime
