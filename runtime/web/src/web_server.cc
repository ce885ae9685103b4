// The web server's sockets: a libuv TCP listener and its connections, each
// an HttpConnection (the protocol, the limits, the timeouts) driven by
// reads, writes and one timer. Everything runs on the main loop; a
// connection is freed when its last handle has closed, and every callback
// that may come later (a command's answer, a credential check) checks that
// the connection is still open first.
#include <sys/socket.h>

#include <charconv>
#include <cstdlib>
#include <unordered_set>

#include "dnspc/runtime/tcp_listener.h"
#include "dnspc/runtime/web.h"
#include "dnspc/runtime/web_counters.h"

namespace dnspc::runtime {

namespace {

constexpr size_t kReadBuffer = 64 * 1024;

}  // namespace

struct Connection {
  WebServer::Impl* server = nullptr;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t write;
  std::string out;  // the bytes being written
  NetAddress peer;
  std::unique_ptr<HttpConnection> http;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  int open_handles = 2;
  bool counted = false;  // among the open connections
  bool closing = false;
  bool reading = false;
  bool writing = false;
  bool peer_done = false;  // the client shut its side
  bool feeding = false;    // inside HttpConnection::feed: pump afterwards
};

struct WebServer::Impl {
  uv_loop_t* loop;
  WebServerConfig config;
  ThreadPoolVerifier verifier;
  std::unique_ptr<WebApp> app;
  uv_tcp_t listener;
  bool listening = false;
  std::unordered_set<Connection*> open;

  Impl(uv_loop_t* l, WebServerConfig c) : loop(l), config(std::move(c)), verifier(l) {
    config.app.verifier = &verifier;
    config.app.now_ms = [l] { return uv_now(l); };
    app = std::make_unique<WebApp>(config.app);
  }

  WebCounters* counters() { return config.app.counters; }
  void on_connection();
  void close(Connection* c);
  void pump(Connection* c);
  void on_request(Connection* c, const HttpRequest& request);
};

namespace {

uv_handle_t* handle(void* h) {
  return reinterpret_cast<uv_handle_t*>(h);
}
uv_stream_t* stream(uv_tcp_t* t) {
  return reinterpret_cast<uv_stream_t*>(t);
}

void on_closed(uv_handle_t* h) {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->open_handles == 0) delete c;
}

}  // namespace

void WebServer::Impl::close(Connection* c) {
  if (c->closing) return;
  c->closing = true;
  *c->alive = false;
  if (c->counted) {
    open.erase(c);
    if (counters()) counters()->connections_open.sub();
  }
  uv_close(handle(&c->tcp), on_closed);
  uv_close(handle(&c->timer), on_closed);
}

void WebServer::Impl::on_request(Connection* c, const HttpRequest& request) {
  app->handle(request, c->peer, [this, c, alive = c->alive](HttpResponse r) {
    if (!*alive) return;
    c->http->respond(std::move(r));
    if (!c->feeding) pump(c);
  });
}

// After anything happened on a connection: write what is owed, close what
// is done, read or not, and set the timer to the next deadline.
void WebServer::Impl::pump(Connection* c) {
  if (c->closing) return;
  if (!c->writing) {
    std::string out = c->http->take_output();
    if (!out.empty()) {
      c->out = std::move(out);
      c->writing = true;
      uv_buf_t buf = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
      c->write.data = c;
      const int r = uv_write(&c->write, stream(&c->tcp), &buf, 1, [](uv_write_t* w, int status) {
        auto* conn = static_cast<Connection*>(w->data);
        conn->writing = false;
        conn->out.clear();
        if (conn->closing) return;
        if (status < 0) return conn->server->close(conn);
        conn->feeding = true;  // written() may parse a pipelined request and answer it at once
        conn->http->written(uv_now(conn->server->loop));
        conn->feeding = false;
        conn->server->pump(conn);
      });
      if (r != 0) return close(c);
    }
  }
  if (c->http->finished() && !c->writing) return close(c);
  const bool want = c->http->wants_input();
  if (want && c->peer_done) return close(c);  // nothing more can come
  if (want && !c->reading) {
    c->reading = true;
    uv_read_start(
        stream(&c->tcp),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char storage[kReadBuffer];  // the main loop is single-threaded
          *buf = uv_buf_init(storage, sizeof storage);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* conn = static_cast<Connection*>(s->data);
          if (conn->closing || n == 0) return;
          if (n < 0) {
            // EOF: an answer still owed is written, then the connection closes.
            conn->peer_done = true;
            uv_read_stop(s);
            conn->reading = false;
            return conn->server->pump(conn);
          }
          conn->feeding = true;
          conn->http->feed(std::string_view(buf->base, static_cast<size_t>(n)),
                           uv_now(conn->server->loop));
          conn->feeding = false;
          conn->server->pump(conn);
        });
  } else if (!want && c->reading) {
    c->reading = false;
    uv_read_stop(stream(&c->tcp));
  }
  const uint64_t deadline = c->http->deadline_ms();
  if (deadline == 0) {
    uv_timer_stop(&c->timer);
  } else {
    const uint64_t now = uv_now(loop);
    uv_timer_start(
        &c->timer,
        [](uv_timer_t* t) {
          auto* conn = static_cast<Connection*>(t->data);
          if (conn->closing) return;
          conn->http->tick(uv_now(conn->server->loop));
          conn->server->pump(conn);
        },
        deadline > now ? deadline - now : 0, 0);
  }
}

void WebServer::Impl::on_connection() {
  auto* c = new Connection;
  c->server = this;
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  if (uv_accept(stream(&listener), stream(&c->tcp)) != 0) return close(c);
  // Past the limit, or outside web_acl: closed without a byte.
  if (open.size() >= config.max_connections) {
    if (counters()) counters()->refused_limit.add();
    return close(c);
  }
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return close(c);
  c->peer = unmap_v4(NetAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)));
  if (!app->admits(c->peer)) {
    if (counters()) counters()->refused_acl.add();
    return close(c);
  }
  uv_tcp_nodelay(&c->tcp, 1);
  c->http = std::make_unique<HttpConnection>(
      config.limits, [this, c](const HttpRequest& r) { on_request(c, r); }, uv_now(loop));
  c->counted = true;
  open.insert(c);
  if (counters()) counters()->connections_open.add();
  pump(c);
}

WebServer::WebServer(uv_loop_t* loop, WebServerConfig config)
    : impl_(std::make_unique<Impl>(loop, std::move(config))) {}

WebServer::~WebServer() = default;

bool WebServer::start(std::string& error) {
  Impl& s = *impl_;
  if (!listen_tcp(s.loop, &s.listener, &s, s.config.address, 128,
                  [](uv_stream_t* l, int status) {
                    if (status == 0) static_cast<WebServer::Impl*>(l->data)->on_connection();
                  },
                  "the web server", "web", error)) {
    return false;
  }
  s.listening = true;
  return true;
}

void WebServer::stop() {
  Impl& s = *impl_;
  if (s.listening) {
    s.listening = false;
    uv_close(handle(&s.listener), nullptr);
  }
  while (!s.open.empty()) s.close(*s.open.begin());
}

HttpLimits web_limits_from_env() {
  HttpLimits limits;
  milliseconds_from_env("DNSPC_WEB_HEADER_TIMEOUT_MS", 600'000, limits.request_timeout_ms);
  return limits;
}

}  // namespace dnspc::runtime
