// DNS over TCP, the backend side: per worker, a few connections to each
// backend, opened on demand and reused; queries pipelined on them with IDs
// chosen per connection; answers matched by ID and question as over UDP.
// When every connection is full, a query waits for room (worker_tcp_wait.cc).
// When a connection closes with queries in flight, each is sent once more on
// another connection; a query that fails twice, or waits longer than
// tcp_backend_timeout, gets SERVFAIL (a TCP client would otherwise wait on
// its connection for an answer that never comes).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "dnspc/wire.h"
#include "worker.h"

namespace dnspc::runtime {

namespace {

uint64_t ms_to_ns(uint64_t ms) { return ms * 1'000'000ull; }

void backend_handle_closed(uv_handle_t* h) {
  auto* c = static_cast<TcpBackendConn*>(h->data);
  c->worker->on_tcp_backend_handle_closed(*c);
}

}  // namespace

TcpQuery* Worker::take_tcp_query() {
  if (tcp_free_) {
    TcpQuery* q = tcp_free_;
    tcp_free_ = q->next_free;
    return q;
  }
  // Grows to the peak number in flight, then only reuses.
  tcp_queries_.push_back(std::make_unique<TcpQuery>());
  return tcp_queries_.back().get();
}

void Worker::forward_tcp(TcpClientConn& client, const uint8_t* packet, const QueryView& view, uint64_t tags,
                         uint32_t server, const char*& outcome) {
  TcpQuery& q = *take_tcp_query();
  q.capture(view, packet + kHeaderSize);
  q.tcp = &client;
  q.conn = nullptr;
  q.waiter = nullptr;
  q.server = server;
  q.tags = tags;
  q.rule = deciding_rule_;
  q.cache_pool = forward_cache_pool_;
  q.cache_generation = static_cast<uint32_t>(policy_->generation);
  q.cache_flags = forward_cache_flags_;
  q.attempts = 0;
  q.read_ns = now_ns_;
  q.sent_ns = now_ns_;
  q.delay_ms = 0;  // `delay` holds UDP answers only
  q.socket = 0;
  q.listener = 0;
  q.client_len = std::min<socklen_t>(sizeof q.client, sizeof client.peer);
  std::memcpy(&q.client, &client.peer, q.client_len);
  q.packet.assign(packet, packet + view.size);
  ++client.refs;
  ++tcp_in_flight_;
  Backend& b = backends_[server];
  ++b.outstanding;
  b.counters->outstanding.set(b.outstanding);
  b.counters->queries.add();
  counters_.forwarded.add();
  outcome = "forwarded";
  tcp_answer_owed_ = true;
  send_or_wait(b, q, nullptr);
  if (q.waiter) outcome = "forwarded (waiting for a TCP connection)";
}

// Sends the query on a connection with room, else it waits for room. While
// other queries wait at that backend it waits too: nobody overtakes them.
void Worker::send_or_wait(Backend& b, TcpQuery& q, const TcpBackendConn* exclude) {
  if (q.tcp->closed) {
    // A retry for a client already gone: nobody would read the answer.
    counters_.tcp.answers_discarded.add();
    finish_tcp_query(q);
    return;
  }
  if (b.tcp_wait_head) {
    wait_for_tcp_room(b, q);
    return;
  }
  bool connect_failed = false;
  TcpBackendConn* conn = tcp_backend_conn(b, exclude, connect_failed);
  if (!conn) {
    if (connect_failed) {
      failed_try_or_wait(b, q);
    } else {
      wait_for_tcp_room(b, q);
    }
    return;
  }
  if (!send_tcp_query(*conn, q)) retry_or_servfail(q, conn);
}

// A connection for the query could not even be started (no socket): that
// counts as a try; after two, SERVFAIL. Otherwise the query waits, and the
// closed connection has woken the wait list, which tries again.
void Worker::failed_try_or_wait(Backend& b, TcpQuery& q) {
  if (++q.attempts >= 2) {
    tcp_servfail(q);
  } else {
    wait_for_tcp_room(b, q);
  }
}

// A connection with room for one more query: an open one first (the least
// loaded), else a new one while the pool is under its size. Null when every
// connection is full, or (`connect_failed`) when a new one failed at once.
TcpBackendConn* Worker::tcp_backend_conn(Backend& b, const TcpBackendConn* exclude,
                                         bool& connect_failed) {
  const TcpOptions& o = policy_->image->options.tcp;
  TcpBackendConn* best = nullptr;
  for (TcpBackendConn* c : b.tcp_conns) {
    if (c == exclude || c->closed || c->in_flight.size() >= o.backend_max_in_flight) continue;
    if (!best || c->in_flight.size() < best->in_flight.size()) best = c;
  }
  if (best && (best->in_flight.empty() || b.tcp_conns.size() >= o.backend_connections)) {
    counters_.tcp.backend_reused.add();
    return best;
  }
  if (b.tcp_conns.size() >= o.backend_connections) return best;

  auto* c = new TcpBackendConn;
  c->worker = this;
  c->server = b.id;
  c->opened_ns = c->last_used_ns = now_ns_;
  c->out.connected = false;
  c->in_flight.reserve(o.backend_max_in_flight);
  uv_tcp_init(&loop_, &c->handle);
  c->handle.data = c;
  uv_timer_init(&loop_, &c->timer);
  c->timer.data = c;
  c->open_handles = 2;
  c->connect.data = c;
  b.tcp_conns.push_back(c);
  counters_.tcp.backend_connects.add();
  int r = uv_tcp_connect(&c->connect, &c->handle, &b.sa.sa, [](uv_connect_t* req, int status) {
    auto* conn = static_cast<TcpBackendConn*>(req->data);
    conn->worker->on_tcp_backend_connected(*conn, status);
  });
  if (r != 0) {
    counters_.tcp.backend_connect_failures.add();
    close_tcp_backend(*c);
    connect_failed = true;
    return best;
  }
  arm_tcp_backend_timer(*c);
  return c;
}

bool Worker::send_tcp_query(TcpBackendConn& conn, TcpQuery& q) {
  // An ID no other query on this connection has.
  uint16_t id = 0;
  for (bool taken = true; taken;) {
    id = random_.u16();
    taken = std::any_of(conn.in_flight.begin(), conn.in_flight.end(),
                        [id](const TcpQuery* other) { return other->backend_id == id; });
  }
  q.backend_id = id;
  q.conn = &conn;
  q.sent_ns = now_ns_;
  ++q.attempts;
  set_id(q.packet.data(), id);
  conn.in_flight.push_back(&q);
  conn.last_used_ns = now_ns_;
  if (!conn.out.send(reinterpret_cast<uv_stream_t*>(&conn.handle), q.packet.data(), q.packet.size())) {
    conn.in_flight.pop_back();
    q.conn = nullptr;
    fail_tcp_backend(conn, &counters_.tcp.backend_closed_in_flight, false);
    return false;
  }
  if (conn.in_flight.size() == 1) arm_tcp_backend_timer(conn);
  return true;
}

void Worker::on_tcp_backend_connected(TcpBackendConn& c, int status) {
  if (c.closed) return;
  begin_batch();
  if (status != 0) {
    counters_.tcp.backend_connect_failures.add();
    fail_tcp_backend(c, nullptr, false);
    flush();
    return;
  }
  c.connected = true;
  uv_tcp_nodelay(&c.handle, 1);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c.handle),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) { *buf = static_cast<TcpBackendConn*>(h->data)->in.space(); },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t*) {
        auto* conn = static_cast<TcpBackendConn*>(s->data);
        conn->worker->on_tcp_backend_read(*conn, n);
      });
  if (!c.out.start(reinterpret_cast<uv_stream_t*>(&c.handle))) {
    fail_tcp_backend(c, nullptr, false);
  } else {
    arm_tcp_backend_timer(c);  // from the connect timeout to the oldest query's (or idleness)
  }
  flush();
}

void Worker::on_tcp_backend_read(TcpBackendConn& c, ssize_t nread) {
  if (c.closed || nread == 0) return;
  begin_batch();
  if (nread < 0) {
    // The backend closed (or reset) the connection: queries in flight get one
    // more try elsewhere.
    fail_tcp_backend(c, c.in_flight.empty() ? nullptr : &counters_.tcp.backend_closed_in_flight, false);
  } else {
    // Acknowledge at once: a backend that writes answers with Nagle's
    // algorithm on (NSD does) holds its next answer until this ACK, which
    // Linux would otherwise delay by up to 40 ms. Quick-ack mode lapses, so
    // it is set again after each read.
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c.handle), &fd) == 0) {
      int one = 1;
      (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
    c.in.received(static_cast<size_t>(nread));
    uint8_t* data = nullptr;
    size_t size = 0;
    while (!c.closed && c.in.next(data, size)) handle_tcp_answer(c, data, size);
  }
  flush();
  maybe_finish();
}

void Worker::handle_tcp_answer(TcpBackendConn& conn, uint8_t* packet, size_t size) {
  Backend& b = backends_[conn.server];
  if (size < kHeaderSize) {
    counters_.tcp.backend_malformed.add();
    b.counters->malformed.add();
    return;
  }
  const uint16_t id = read_id(packet);
  auto it = std::find_if(conn.in_flight.begin(), conn.in_flight.end(),
                         [id](const TcpQuery* q) { return q->backend_id == id; });
  if (it == conn.in_flight.end()) {
    counters_.tcp.backend_unknown_id.add();
    b.counters->unknown_id.add();
    return;
  }
  TcpQuery& q = **it;
  if (!answer_matches(packet, size, id, answer_stage_.expected_question(q))) {
    counters_.tcp.backend_mismatched.add();
    b.counters->mismatched.add();
    return;
  }
  conn.in_flight.erase(it);
  conn.last_used_ns = now_ns_;
  wake_tcp_backend(b);  // room for a waiting query
  deliver_answer(b, q, packet, size);
  finish_tcp_query(q);
}

// The connection is unusable: its queries go elsewhere (or get SERVFAIL),
// then it closes. `timed_out`: queries past the backend timeout get SERVFAIL
// at once; they are not sent again.
void Worker::fail_tcp_backend(TcpBackendConn& conn, Counter* reason, bool timed_out) {
  if (conn.closed) return;
  if (reason) reason->add();
  std::vector<TcpQuery*> queries;
  queries.swap(conn.in_flight);
  close_tcp_backend(conn);
  const uint64_t limit = ms_to_ns(policy_->image->options.tcp.backend_timeout_ms);
  for (TcpQuery* q : queries) {
    q->conn = nullptr;
    if (timed_out && q->sent_ns + limit <= now_ns_) {
      Backend& b = backends_[q->server];
      b.counters->timeouts.add();
      counters_.timeouts.add();
      tap_timed_out(*q);
      tcp_timed_out(*q);
    } else {
      retry_or_servfail(*q, &conn);
    }
  }
}

void Worker::retry_or_servfail(TcpQuery& q, const TcpBackendConn* failed) {
  if (q.attempts < 2 && !finishing_) {
    counters_.tcp.backend_retries.add();
    send_or_wait(backends_[q.server], q, failed);
    return;
  }
  tcp_servfail(q);
}

void Worker::tcp_timed_out(TcpQuery& q) {
  if (answer_stale_on_timeout(q)) {
    finish_tcp_query(q);
    return;
  }
  tcp_servfail(q);
}

void Worker::tcp_servfail(TcpQuery& q) {
  if (answer_servfail(q, AnswerSource::kTimeout)) {
    counters_.tcp.servfail.add();
  } else {
    end_tcp_client_after_drop(*q.tcp);  // no answer could be made
  }
  finish_tcp_query(q);
}

void Worker::finish_tcp_query(TcpQuery& q) {
  Backend& b = backends_[q.server];
  --b.outstanding;
  b.counters->outstanding.set(b.outstanding);
  --tcp_in_flight_;
  TcpClientConn& c = *q.tcp;
  q.tcp = nullptr;
  q.conn = nullptr;
  q.next_free = tcp_free_;
  tcp_free_ = &q;
  if (--c.refs == 0 && c.open_handles == 0) {
    delete &c;
    return;
  }
  const unsigned share = policy_->image->options.tcp.client_max_in_flight;
  if (c.paused && c.refs < share) resume_tcp_client_later(c);
  maybe_end_tcp_client(c);
}

void Worker::close_tcp_backend(TcpBackendConn& conn) {
  if (conn.closed) return;
  conn.closed = true;
  Backend& b = backends_[conn.server];
  auto it = std::find(b.tcp_conns.begin(), b.tcp_conns.end(), &conn);
  if (it != b.tcp_conns.end()) b.tcp_conns.erase(it);
  wake_tcp_backend(b);  // room for a new connection
  uv_close(reinterpret_cast<uv_handle_t*>(&conn.handle), backend_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&conn.timer), backend_handle_closed);
}

void Worker::on_tcp_backend_handle_closed(TcpBackendConn& c) {
  if (--c.open_handles == 0) delete &c;
}

// One timer per connection, set for the next thing that can happen to it:
// the connect timeout, the oldest query's timeout, or the idle close.
void Worker::arm_tcp_backend_timer(TcpBackendConn& c) {
  const TcpOptions& o = policy_->image->options.tcp;
  uint64_t at;
  if (!c.connected) {
    at = c.opened_ns + ms_to_ns(o.connect_timeout_ms);
  } else if (!c.in_flight.empty()) {
    at = c.in_flight.front()->sent_ns + ms_to_ns(o.backend_timeout_ms);
  } else {
    at = c.last_used_ns + ms_to_ns(o.idle_timeout_ms);
  }
  uint64_t wait_ms = at > now_ns_ ? (at - now_ns_ + 999'999) / 1'000'000 : 0;
  uv_timer_start(
      &c.timer, [](uv_timer_t* t) {
        auto* conn = static_cast<TcpBackendConn*>(t->data);
        conn->worker->on_tcp_backend_timer(*conn);
      },
      wait_ms, 0);
}

void Worker::on_tcp_backend_timer(TcpBackendConn& c) {
  if (c.closed) return;
  begin_batch();
  const TcpOptions& o = policy_->image->options.tcp;
  if (!c.connected) {
    if (now_ns_ >= c.opened_ns + ms_to_ns(o.connect_timeout_ms)) {
      fail_tcp_backend(c, &counters_.tcp.backend_connect_timeouts, false);
    } else {
      arm_tcp_backend_timer(c);
    }
  } else if (!c.in_flight.empty()) {
    uint64_t oldest = c.in_flight.front()->sent_ns;
    for (const TcpQuery* q : c.in_flight) oldest = std::min(oldest, q->sent_ns);
    if (now_ns_ >= oldest + ms_to_ns(o.backend_timeout_ms)) {
      fail_tcp_backend(c, &counters_.tcp.backend_timeouts, true);
    } else {
      arm_tcp_backend_timer(c);
    }
  } else if (now_ns_ >= c.last_used_ns + ms_to_ns(o.idle_timeout_ms)) {
    close_tcp_backend(c);  // idle: give the backend its connection slot back
  } else {
    arm_tcp_backend_timer(c);
  }
  flush();
  maybe_finish();
}

}  // namespace dnspc::runtime
