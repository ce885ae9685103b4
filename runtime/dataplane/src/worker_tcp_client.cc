// DNS over TCP, the client side: accepting connections within the limits,
// reassembling length-prefixed queries, deciding each like a UDP query
// (transport tcp) and answering in whatever order answers come (RFC 7766
// pipelining). Every limit closes only the connection over it, and counts.
// A connection whose share of backend queries is used is not read until
// answers come (TCP flow control holds the client back); a query that gets
// no answer ends its connection once the rest is written.
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "dnspc/runtime/log.h"
#include "dnspc/wire.h"
#include "dnspc/runtime/sockets.h"
#include "worker.h"

namespace dnspc::runtime {

namespace {

uint64_t ms_to_ns(uint64_t ms) { return ms * 1'000'000ull; }

void client_handle_closed(uv_handle_t* h) {
  auto* c = static_cast<TcpClientConn*>(h->data);
  c->worker->on_tcp_client_handle_closed(*c);
}

void client_timer_fired(uv_timer_t* t) {
  auto* c = static_cast<TcpClientConn*>(t->data);
  c->worker->on_tcp_client_timer(*c);
}

void start_reading(TcpClientConn& c) {
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c.handle),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) { *buf = static_cast<TcpClientConn*>(h->data)->in.space(); },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t*) {
        auto* conn = static_cast<TcpClientConn*>(s->data);
        conn->worker->on_tcp_client_read(*conn, n);
      });
}

}  // namespace

bool Worker::add_tcp_listener(const NetAddress& address, int fd, std::string& error) {
  auto l = std::make_unique<TcpListener>();
  l->worker = this;
  l->address = address;
  uv_tcp_init(&loop_, &l->handle);
  l->handle.data = l.get();
  if (int r = uv_tcp_open(&l->handle, fd); r != 0) {
    error = fmt::format("TCP listener {}: {}", address.to_string(true), uv_strerror(r));
    ::close(fd);
    uv_close(reinterpret_cast<uv_handle_t*>(&l->handle), nullptr);
    closed_tcp_listeners_.push_back(std::move(l));
    return false;
  }
  tcp_listeners_.push_back(std::move(l));
  return true;
}

bool Worker::open_tcp(std::string& error) {
  std::vector<int> fds = std::move(config_.tcp_listener_fds);
  config_.tcp_listener_fds.clear();
  for (size_t i = 0; i < fds.size(); ++i) {
    if (!add_tcp_listener(config_.listen_addresses[i], fds[i], error)) {
      for (size_t k = i + 1; k < fds.size(); ++k) ::close(fds[k]);
      return false;
    }
  }
  return true;
}

void Worker::listen_tcp(TcpListener& l) {
  int r = uv_listen(reinterpret_cast<uv_stream_t*>(&l.handle), 1024, [](uv_stream_t* s, int status) {
    if (status < 0) return;
    auto* tl = static_cast<TcpListener*>(s->data);
    tl->worker->on_tcp_connection(*tl);
  });
  if (r != 0) log(LogLevel::kError, "cannot listen (TCP)", {{"listen", l.address.to_string(true)}, {"reason", uv_strerror(r)}});
}

void Worker::start_tcp() {
  for (auto& l : tcp_listeners_) listen_tcp(*l);
}

// A reload's listener changes, for TCP: a removed address stops accepting at
// once (its connections go on until they end); an added one gets a new
// SO_REUSEPORT listener in this worker.
void Worker::change_tcp_listeners(const std::vector<NetAddress>& added, const std::vector<NetAddress>& removed) {
  if (draining_ || tcp_listeners_closed_) return;  // every TCP listener is closed or closing already
  for (const NetAddress& a : removed) {
    for (size_t i = 0; i < tcp_listeners_.size();) {
      if (!(tcp_listeners_[i]->address == a)) {
        ++i;
        continue;
      }
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_listeners_[i]->handle), nullptr);
      closed_tcp_listeners_.push_back(std::move(tcp_listeners_[i]));
      tcp_listeners_.erase(tcp_listeners_.begin() + static_cast<long>(i));
    }
  }
  for (const NetAddress& a : added) {
    std::string error;
    int fd = open_tcp_listener(a, error);
    if (fd < 0 || !add_tcp_listener(a, fd, error)) {
      log(LogLevel::kError, "cannot listen (TCP)", {{"listen", a.to_string(true)}, {"reason", error}});
      continue;
    }
    listen_tcp(*tcp_listeners_.back());
  }
}

// After a reload: every TCP timer again, under the new policy's timeouts;
// and the limits may have grown: paused clients and wait lists get a turn.
void Worker::retime_tcp() {
  for (TcpClientConn* c = tcp_clients_; c; c = c->next) {
    if (!c->closed && !c->lingering) arm_tcp_client_timer(*c);
    if (c->paused) resume_tcp_client_later(*c);
  }
  for (Backend& b : backends_) {
    for (TcpBackendConn* conn : b.tcp_conns) arm_tcp_backend_timer(*conn);
    wake_tcp_backend(b);
  }
}

void Worker::finish_tcp() {
  if (!tcp_listeners_closed_) {
    for (auto& l : tcp_listeners_) uv_close(reinterpret_cast<uv_handle_t*>(&l->handle), nullptr);
    tcp_listeners_closed_ = true;
  }
  // Nothing more will be answered: queries waiting or in flight let go of their clients.
  for (Backend& b : backends_) {
    while (b.tcp_wait_head) finish_tcp_query(next_waiting_query(b));
  }
  tcp_wake_backends_.clear();
  tcp_resume_.clear();
  for (Backend& b : backends_) {
    while (!b.tcp_conns.empty()) {
      TcpBackendConn& conn = *b.tcp_conns.back();
      for (TcpQuery* q : conn.in_flight) finish_tcp_query(*q);
      conn.in_flight.clear();
      close_tcp_backend(conn);
    }
  }
  while (tcp_clients_) close_tcp_client(*tcp_clients_, nullptr);
}

void Worker::on_tcp_connection(TcpListener& l) {
  if (finishing_ || draining_) return;
  begin_batch();
  TcpCounters& tc = counters_.tcp;
  auto* c = new TcpClientConn;
  c->worker = this;
  c->destination = l.address;
  uv_tcp_init(&loop_, &c->handle);
  c->handle.data = c;
  c->open_handles = 1;
  uv_timer_init(&loop_, &c->timer);
  c->timer.data = c;
  c->open_handles = 2;
  c->next = tcp_clients_;
  if (tcp_clients_) tcp_clients_->prev = c;
  tcp_clients_ = c;
  tc.open.add();
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&l.handle), reinterpret_cast<uv_stream_t*>(&c->handle)) != 0) {
    close_tcp_client(*c, &tc.closed_error);
    return;
  }
  tc.accepted.add();
  int len = sizeof c->peer;
  uv_tcp_getpeername(&c->handle, reinterpret_cast<sockaddr*>(&c->peer), &len);
  c->source = NetAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&c->peer));
  c->accepted_ns = c->last_activity_ns = now_ns_;

  const ActivePolicy& p = *policy_;
  if (p.acl_drop && !acl_allows(p, c->source)) {
    close_tcp_client(*c, &tc.acl_dropped);
    return;
  }
  const TcpOptions& o = p.image->options.tcp;
  switch (config_.tcp_admission->admit(c->source, o.max_connections, o.max_connections_per_client)) {
    case TcpAdmission::Verdict::kTotalLimit: close_tcp_client(*c, &tc.refused_total_limit); return;
    case TcpAdmission::Verdict::kClientLimit: close_tcp_client(*c, &tc.refused_client_limit); return;
    case TcpAdmission::Verdict::kAdmitted: c->admitted = true; break;
  }
  uv_tcp_nodelay(&c->handle, 1);
  c->out.set_notify([](void* owner, bool failed) {
    auto* conn = static_cast<TcpClientConn*>(owner);
    conn->worker->on_tcp_client_output(*conn, failed);
  }, c);
  start_reading(*c);
  arm_tcp_client_timer(*c);
}

void Worker::on_tcp_client_read(TcpClientConn& c, ssize_t nread) {
  if (c.closed || nread == 0) return;
  TcpCounters& tc = counters_.tcp;
  if (c.lingering) {
    // Our side is shut: what the client still sends is read and dropped, so
    // closing does not reset the connection under answers it has not read.
    if (nread < 0) {
      close_tcp_client(c, nullptr);
    } else {
      c.in.discard();
    }
    return;
  }
  if (nread < 0) {
    if (nread == UV_EOF && (c.refs > 0 || !c.out.idle())) {
      // A half-close: answer what is in flight, then close.
      tc.closed_by_client.add();
      c.eof_seen = true;
      begin_batch();
      end_tcp_client(c);
      return;
    }
    close_tcp_client(c, nread == UV_EOF ? &tc.closed_by_client : &tc.closed_error);
    return;
  }
  begin_batch();
  c.in.received(static_cast<size_t>(nread));
  c.last_activity_ns = now_ns_;
  handle_tcp_client_input(c);
  flush();
}

// The messages read and not handled yet, in order, while the connection has
// share left (tcp_client_max_in_flight forwarded queries); past it the
// connection pauses, and the rest is handled when it resumes.
void Worker::handle_tcp_client_input(TcpClientConn& c) {
  TcpCounters& tc = counters_.tcp;
  const TcpOptions& o = policy_->image->options.tcp;
  uint8_t* data = nullptr;
  size_t size = 0;
  while (!c.finishing) {
    if (c.refs >= o.client_max_in_flight) {
      pause_tcp_client(c);
      break;
    }
    if (!c.in.next(data, size)) break;
    if (size < kHeaderSize) {
      close_tcp_client(c, &tc.closed_short_length);
      return;
    }
    tc.queries.add();
    counters_.queries.add();
    Client client;
    client.address = reinterpret_cast<const SockAddr*>(&c.peer);
    client.address_len = c.source.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    client.tcp = &c;
    tcp_answer_owed_ = false;
    process_query(client, data, size, Transport::kTcp);
    if (c.closed) return;  // the answer could not be written
    ++c.queries;
    if (!tcp_answer_owed_) {
      end_tcp_client_after_drop(c);
    } else if (c.queries >= o.max_queries_per_connection) {
      tc.closed_query_limit.add();
      end_tcp_client(c);
    }
  }
  if (c.in.has_prefix() && c.in.announced() < kHeaderSize) {
    close_tcp_client(c, &tc.closed_short_length);
    return;
  }
  // What waits in memory for this client: the message being read (as
  // announced, so a large prefix is refused before its bytes arrive) and the
  // answers it has not read yet.
  size_t held = (c.in.has_prefix() ? c.in.announced() + 2 : c.in.buffered()) + c.out.buffered();
  if (held > o.max_buffered_bytes) {
    close_tcp_client(c, &tc.closed_buffer);
    return;
  }
  maybe_end_tcp_client(c);
}

void Worker::tcp_send(TcpClientConn& c, const uint8_t* data, size_t len) {
  if (c.closed) {
    counters_.tcp.answers_discarded.add();
    return;
  }
  if (!c.out.send(reinterpret_cast<uv_stream_t*>(&c.handle), data, len)) {
    close_tcp_client(c, &counters_.tcp.closed_error);
    return;
  }
  counters_.tcp.answers.add();
  counters_.answers.add();
  c.last_activity_ns = now_ns_;
  if (c.out.buffered() > policy_->image->options.tcp.max_buffered_bytes) {
    // The client does not read its answers.
    close_tcp_client(c, &counters_.tcp.closed_buffer);
  }
}

void Worker::end_tcp_client(TcpClientConn& c) {
  if (c.finishing || c.closed) return;
  c.finishing = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c.handle));
  maybe_end_tcp_client(c);
}

// A query on the connection gets no answer (a drop rule or block, no usable
// server with on_no_server drop, a malformed query, a response rule's drop):
// as dnsdist does, the connection ends once everything else owed on it is
// written, so the client learns at once instead of at its idle timeout.
// Queries read after the dropped one are not handled.
void Worker::end_tcp_client_after_drop(TcpClientConn& c) {
  if (c.finishing || c.closed) return;
  counters_.tcp.closed_dropped.add();
  end_tcp_client(c);
}

void Worker::pause_tcp_client(TcpClientConn& c) {
  if (c.paused) return;
  c.paused = true;
  counters_.tcp.client_paused.add();
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c.handle));
}

// From the pump, once answers brought the connection under its share: what
// was read before the pause first, then reading again.
void Worker::resume_tcp_client(TcpClientConn& c) {
  if (!c.paused || c.closed || c.finishing) return;
  const unsigned share = policy_->image->options.tcp.client_max_in_flight;
  if (c.refs >= share) return;  // the next answer tries again
  c.paused = false;
  handle_tcp_client_input(c);
  if (!c.paused && !c.closed && !c.finishing) start_reading(c);
}

// A finishing connection ends once nothing is in flight for it and every
// answer is written (our own queue included, which libuv's shutdown does not
// wait for): then a shutdown sends our FIN.
void Worker::maybe_end_tcp_client(TcpClientConn& c) {
  if (!c.finishing || c.closed || c.refs > 0 || !c.out.idle() || c.shutting_down) return;
  c.shutting_down = true;
  c.shutdown.data = &c;
  int r = uv_shutdown(&c.shutdown, reinterpret_cast<uv_stream_t*>(&c.handle), [](uv_shutdown_t* req, int status) {
    if (status == UV_ECANCELED) return;  // closed meanwhile
    auto* conn = static_cast<TcpClientConn*>(req->data);
    conn->worker->on_tcp_client_shutdown(*conn);
  });
  if (r != 0) close_tcp_client(c, nullptr);
}

void Worker::on_tcp_client_shutdown(TcpClientConn& c) {
  if (c.closed) return;
  if (c.eof_seen || finishing_) {
    close_tcp_client(c, nullptr);
    return;
  }
  // Linger until the client closes its side (or two seconds): closing with
  // unread input would make the kernel reset the connection, and the client
  // could lose answers it has not read yet.
  c.lingering = true;
  start_reading(c);
  uv_timer_start(&c.timer, client_timer_fired, 2000, 0);
  maybe_finish();
}

void Worker::on_tcp_client_output(TcpClientConn& c, bool failed) {
  if (c.closed) return;
  if (failed) {
    close_tcp_client(c, &counters_.tcp.closed_error);
  } else {
    maybe_end_tcp_client(c);
  }
  maybe_finish();
}

void Worker::close_tcp_client(TcpClientConn& c, Counter* reason) {
  if (c.closed) return;
  c.closed = true;
  if (reason) reason->add();
  cancel_tcp_waits(c);
  if (c.resume_pending) {
    // The pump must not touch it: it may be freed before the pump runs.
    std::replace(tcp_resume_.begin(), tcp_resume_.end(), &c, static_cast<TcpClientConn*>(nullptr));
    c.resume_pending = false;
  }
  if (c.in.ends_mid_message()) counters_.tcp.closed_incomplete.add();
  if (c.admitted) {
    config_.tcp_admission->release(c.source);
    c.admitted = false;
  }
  // Off the worker's list; the object lives on while queries refer to it.
  if (c.prev) c.prev->next = c.next;
  if (c.next) c.next->prev = c.prev;
  if (tcp_clients_ == &c) tcp_clients_ = c.next;
  c.prev = c.next = nullptr;
  counters_.tcp.open.sub();
  uv_close(reinterpret_cast<uv_handle_t*>(&c.handle), client_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&c.timer), client_handle_closed);
}

void Worker::on_tcp_client_handle_closed(TcpClientConn& c) {
  if (--c.open_handles == 0 && c.refs == 0) delete &c;
}

void Worker::arm_tcp_client_timer(TcpClientConn& c) {
  const TcpOptions& o = policy_->image->options.tcp;
  uint64_t idle_at = c.last_activity_ns + ms_to_ns(o.idle_timeout_ms);
  uint64_t end_at = c.accepted_ns + ms_to_ns(o.max_duration_ms);
  uint64_t at = std::min(idle_at, end_at);
  uint64_t wait_ms = at > now_ns_ ? (at - now_ns_ + 999'999) / 1'000'000 : 0;
  uv_timer_start(&c.timer, client_timer_fired, wait_ms, 0);
}

void Worker::on_tcp_client_timer(TcpClientConn& c) {
  if (c.closed) return;
  if (c.lingering) {
    close_tcp_client(c, nullptr);
    maybe_finish();
    return;
  }
  begin_batch();
  const TcpOptions& o = policy_->image->options.tcp;
  if (now_ns_ >= c.accepted_ns + ms_to_ns(o.max_duration_ms)) {
    close_tcp_client(c, &counters_.tcp.closed_duration);
    return;
  }
  // Idle: nothing received and nothing owed to the client for that long.
  if (c.refs == 0 && c.out.idle() && now_ns_ >= c.last_activity_ns + ms_to_ns(o.idle_timeout_ms)) {
    close_tcp_client(c, &counters_.tcp.closed_idle);
    return;
  }
  if (c.refs > 0) c.last_activity_ns = now_ns_;  // waiting on a backend is not idleness
  arm_tcp_client_timer(c);
}

}  // namespace dnspc::runtime
