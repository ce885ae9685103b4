// The console's sockets: a libuv TCP listener and its connections, each a
// ConsoleSession driven by reads, writes and one timer, on the main loop.
// Limits: connections without a good hello are few and the oldest goes
// first when another comes; sessions are few; a hello has seconds to come, a
// session minutes between requests. A connection is freed once its handles
// have closed; a line's later answer finds it gone through the session's
// own guard.
#include <sys/socket.h>

#include <charconv>
#include <cstdlib>
#include <list>

#include "dnspc/lua/console_lua.h"
#include "dnspc/runtime/console.h"
#include "dnspc/runtime/console_session.h"
#include "dnspc/runtime/tcp_listener.h"
#include "dnspc/runtime/log.h"
#include "dnspc/runtime/web_app.h"  // acl_allows, unmap_v4: one ACL check for both servers

namespace dnspc::runtime {

namespace {

constexpr size_t kReadBuffer = 64 * 1024;
// A client that does not read its answers gets no further request read
// while this much is still queued for it: a session cannot pile up answers.
constexpr size_t kMaxQueued = 1024 * 1024;

uv_handle_t* handle(void* h) {
  return reinterpret_cast<uv_handle_t*>(h);
}
uv_stream_t* stream(uv_tcp_t* t) {
  return reinterpret_cast<uv_stream_t*>(t);
}

struct Write {
  uv_write_t req;
  std::string data;
};

}  // namespace

struct ConsoleConnection {
  ConsoleServer::Impl* server = nullptr;
  uv_tcp_t tcp;
  uv_timer_t timer;
  NetAddress peer;
  std::unique_ptr<console::ConsoleSession> session;
  std::unique_ptr<lua::ConsoleLua> lua;
  std::list<ConsoleConnection*>::iterator place;  // in handshakes or sessions
  bool in_sessions = false;
  bool json = false;  // the line running now wants JSON
  bool reading = false;
  bool closing = false;
  int open_handles = 2;
};

struct ConsoleServer::Impl {
  uv_loop_t* loop;
  ConsoleServerConfig config;
  uv_tcp_t listener;
  bool listening = false;
  std::list<ConsoleConnection*> handshakes, sessions;
  // Refusals are logged, but at most kLogsPerSecond lines a second: anyone
  // who can reach the port must not be able to flood the log. The next line
  // says how many went unlogged.
  static constexpr unsigned kLogsPerSecond = 10;
  uint64_t log_window_ms = 0;
  unsigned logged_in_window = 0;
  uint64_t unlogged = 0;

  Impl(uv_loop_t* l, ConsoleServerConfig c) : loop(l), config(std::move(c)) {}

  ConsoleCounters* counters() { return config.counters; }
  void on_connection();
  void close(ConsoleConnection* c);
  void pump(ConsoleConnection* c);
  void after_input(ConsoleConnection* c);
  void start_session(ConsoleConnection* c);
  void refuse(ConsoleConnection* c, Counter ConsoleCounters::*reason, const char* why);
};

namespace {

void on_closed(uv_handle_t* h) {
  auto* c = static_cast<ConsoleConnection*>(h->data);
  if (--c->open_handles == 0) delete c;
}

}  // namespace

void ConsoleServer::Impl::close(ConsoleConnection* c) {
  if (c->closing) return;
  c->closing = true;
  if (c->in_sessions) {
    sessions.erase(c->place);
    if (counters()) counters()->sessions_open.sub();
  } else {
    handshakes.erase(c->place);
  }
  // The session and its Lua state live until the handles have closed (this
  // may run inside one of their callbacks); a later answer finds them
  // closing, then gone.
  uv_close(handle(&c->tcp), on_closed);
  uv_close(handle(&c->timer), on_closed);
}

void ConsoleServer::Impl::refuse(ConsoleConnection* c, Counter ConsoleCounters::*reason,
                                 const char* why) {
  if (counters()) (counters()->*reason).add();
  log(LogLevel::kWarning, "console: connection refused",
      {{"client", c->peer.to_string(true)}, {"reason", why}});
  close(c);
}

void ConsoleServer::Impl::start_session(ConsoleConnection* c) {
  handshakes.erase(c->place);
  if (sessions.size() >= config.max_sessions) {
    c->place = handshakes.insert(handshakes.end(), c);  // where close() looks for it
    return refuse(c, &ConsoleCounters::refused_limit, "too many console sessions open");
  }
  c->place = sessions.insert(sessions.end(), c);
  c->in_sessions = true;
  if (counters()) counters()->sessions_open.add();
  lua::SandboxLimits limits;
  limits.instructions = config.lua_instructions;
  limits.memory_bytes = config.lua_memory_bytes;
  c->lua = std::make_unique<lua::ConsoleLua>(limits);
  console::add_console_functions(*c->lua, config.command, [c] { return c->json; });
  log(LogLevel::kInfo, "console: session opened", {{"client", c->peer.to_string(true)}});
}

// After bytes came in (or a line answered later): refuse, start a session,
// write, read again.
void ConsoleServer::Impl::after_input(ConsoleConnection* c) {
  using End = console::ConsoleSession::End;
  switch (c->session->end()) {
    case End::kNone:
      break;
    case End::kBadHello:
      return refuse(c, &ConsoleCounters::refused_bad_hello, "not a console client's hello");
    case End::kBadKey:
      return refuse(c, &ConsoleCounters::refused_bad_key, "wrong console key");
    case End::kOversize:
      return refuse(c, &ConsoleCounters::frames_refused, "a frame longer than the cap");
    case End::kBadFrame:
      return refuse(c, &ConsoleCounters::frames_refused,
                    "a frame that did not open (tampered, replayed or reordered)");
    case End::kBadMessage:
      return refuse(c, &ConsoleCounters::frames_refused, "an unknown message");
  }
  if (c->session->authenticated() && !c->in_sessions) {
    start_session(c);
    if (c->closing) return;
  }
  pump(c);
}

void ConsoleServer::Impl::pump(ConsoleConnection* c) {
  if (c->closing) return;
  std::string out = c->session->take_output();
  if (!out.empty()) {
    auto* w = new Write;
    w->data = std::move(out);
    w->req.data = c;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    // The connection outlives its writes: uv_close cancels them first.
    const int r = uv_write(&w->req, stream(&c->tcp), &buf, 1, [](uv_write_t* req, int status) {
      auto* conn = static_cast<ConsoleConnection*>(req->data);
      delete reinterpret_cast<Write*>(req);
      if (conn->closing) return;
      if (status < 0) return conn->server->close(conn);
      conn->server->pump(conn);  // the queue shrank: reading may go on
    });
    if (r != 0) {
      delete w;
      return close(c);
    }
  }
  const bool room = uv_stream_get_write_queue_size(stream(&c->tcp)) < kMaxQueued;
  // Requests held back while answers were piling up: now there is room.
  if (room && c->session->holding() && !c->session->busy()) {
    c->session->resume();
    return after_input(c);
  }
  const bool want = c->session->wants_input() && room;
  if (want && !c->reading) {
    c->reading = true;
    uv_read_start(
        stream(&c->tcp),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char storage[kReadBuffer];  // the main loop is single-threaded
          *buf = uv_buf_init(storage, sizeof storage);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* conn = static_cast<ConsoleConnection*>(s->data);
          if (conn->closing || n == 0) return;
          if (n < 0) return conn->server->close(conn);
          conn->session->feed(std::string_view(buf->base, static_cast<size_t>(n)));
          if (conn->closing) return;
          conn->server->after_input(conn);
        });
  } else if (!want && c->reading) {
    c->reading = false;
    uv_read_stop(stream(&c->tcp));
  }
  // The clock: a hello's deadline runs from the accept; a session's idle
  // time from its last answer, and not while a line runs.
  if (!c->session->authenticated()) return;
  if (c->session->busy()) {
    uv_timer_stop(&c->timer);
    return;
  }
  uv_timer_start(
      &c->timer,
      [](uv_timer_t* t) {
        auto* conn = static_cast<ConsoleConnection*>(t->data);
        log(LogLevel::kInfo, "console: idle session closed",
            {{"client", conn->peer.to_string(true)}});
        conn->server->close(conn);
      },
      config.idle_timeout_ms, 0);
}

void ConsoleServer::Impl::on_connection() {
  auto* c = new ConsoleConnection;
  c->server = this;
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c;
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  c->place = handshakes.insert(handshakes.end(), c);
  if (uv_accept(stream(&listener), stream(&c->tcp)) != 0) return close(c);
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(&c->tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return close(c);
  c->peer = unmap_v4(NetAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)));
  const ConsoleSpec* settings = config.settings ? config.settings() : nullptr;
  if (!settings || !acl_allows(settings->acl, c->peer)) {
    return refuse(c, &ConsoleCounters::refused_acl, "client outside console_acl");
  }
  // Too many waiting for their hello: the oldest makes room (a flood of idle
  // connections then only ever holds the newest few).
  if (handshakes.size() > config.max_handshakes) {
    ConsoleConnection* oldest = handshakes.front();
    if (counters()) counters()->refused_limit.add();
    close(oldest);
  }
  uv_tcp_nodelay(&c->tcp, 1);
  console::SessionHooks hooks;
  hooks.run = [this, c](std::string_view code, bool json,
                        std::function<void(console::LineAnswer)> done) {
    c->json = json;
    if (counters()) counters()->lines.add();
    c->lua->run_line(code, [this, done = std::move(done)](lua::ConsoleLineResult r) {
      if (!r.ok && counters()) counters()->line_errors.add();
      done({r.ok, std::move(r.output), std::move(r.error)});
    });
  };
  hooks.complete = [this, c](std::string_view before) {
    return console::complete_line(*c->lua, config.command, before);
  };
  hooks.woke = [this, c] { after_input(c); };
  c->session = std::make_unique<console::ConsoleSession>(config.key, std::move(hooks));
  uv_timer_start(
      &c->timer,
      [](uv_timer_t* t) {
        auto* conn = static_cast<ConsoleConnection*>(t->data);
        conn->server->refuse(conn, &ConsoleCounters::refused_timeout, "no hello in time");
      },
      config.handshake_timeout_ms, 0);
  pump(c);
}

ConsoleServer::ConsoleServer(uv_loop_t* loop, ConsoleServerConfig config)
    : impl_(std::make_unique<Impl>(loop, std::move(config))) {}

ConsoleServer::~ConsoleServer() = default;

bool ConsoleServer::start(std::string& error) {
  Impl& s = *impl_;
  if (!listen_tcp(s.loop, &s.listener, &s, s.config.address, 1024,
                  [](uv_stream_t* l, int status) {
                    if (status == 0) static_cast<ConsoleServer::Impl*>(l->data)->on_connection();
                  },
                  "the console", "console", error)) {
    return false;
  }
  s.listening = true;
  return true;
}

void ConsoleServer::stop() {
  Impl& s = *impl_;
  if (s.listening) {
    s.listening = false;
    uv_close(handle(&s.listener), nullptr);
  }
  while (!s.handshakes.empty()) s.close(s.handshakes.front());
  while (!s.sessions.empty()) s.close(s.sessions.front());
}

void console_timeouts_from_env(ConsoleServerConfig& config) {
  milliseconds_from_env("DNSPC_CONSOLE_HANDSHAKE_TIMEOUT_MS", 86'400'000, config.handshake_timeout_ms);
  milliseconds_from_env("DNSPC_CONSOLE_IDLE_TIMEOUT_MS", 86'400'000, config.idle_timeout_ms);
}

}  // namespace dnspc::runtime
