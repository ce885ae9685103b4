// DNS over TCP, waiting for room. A backend takes at most
// tcp_backend_connections x tcp_backend_max_in_flight queries of a worker at
// once; a query past that waits in the backend's wait list instead of
// failing. The list is served one query per client connection in turn
// (round robin), so a client with many queries waiting cannot starve the
// others, and it is bounded: a client connection has at most
// tcp_client_max_in_flight queries forwarded (past that it is not read), so
// the list holds at most that share times the connections. A query waits at
// most tcp_backend_timeout from when it was read, then gets SERVFAIL.
//
// Work that an answer or a closed connection makes possible (serving the
// wait list, reading a paused client again) is not done inside the callback
// that noticed it but by the pump, an idle handle run once per loop turn
// while it has work: the failure paths cannot re-enter themselves (a connect
// that fails at once closes a connection, which frees room, which would try
// to connect again...), and the room one read freed is served in one pass.
#include <algorithm>

#include "worker.h"

namespace dnspc::runtime {

namespace {

uint64_t ms_to_ns(uint64_t ms) {
  return ms * 1'000'000ull;
}

}  // namespace

void Worker::wait_for_tcp_room(Backend& b, TcpQuery& q) {
  TcpWaiter& w = tcp_waiter_for(*q.tcp, b);
  q.waiter = &w;
  q.wait_next = nullptr;
  q.wait_prev = w.tail;
  if (w.tail) {
    w.tail->wait_next = &q;
  } else {
    w.head = &q;
  }
  w.tail = &q;
  // By read time: a new query goes last at once; a retried one is older.
  TcpQuery* before = tcp_wait_newest_;
  while (before && before->read_ns > q.read_ns) before = before->age_prev;
  q.age_prev = before;
  q.age_next = before ? before->age_next : tcp_wait_oldest_;
  if (q.age_next) {
    q.age_next->age_prev = &q;
  } else {
    tcp_wait_newest_ = &q;
  }
  if (before) {
    before->age_next = &q;
  } else {
    tcp_wait_oldest_ = &q;
  }
  counters_.tcp.backend_waited.add();
  counters_.tcp.backend_waiting.add();
}

// The client's entry in the backend's turn order; a new one goes last, so
// its first query is served after every client already waiting got one.
TcpWaiter& Worker::tcp_waiter_for(TcpClientConn& c, Backend& b) {
  for (TcpWaiter* w = c.waiters; w; w = w->client_next) {
    if (w->server == b.id) return *w;
  }
  TcpWaiter* w = tcp_waiter_free_;
  if (w) {
    tcp_waiter_free_ = w->next;
  } else {
    // Grows to the peak number of waiting (client, backend) pairs, then only reuses.
    tcp_waiter_pool_.push_back(std::make_unique<TcpWaiter>());
    w = tcp_waiter_pool_.back().get();
  }
  w->client = &c;
  w->server = b.id;
  w->head = w->tail = nullptr;
  w->client_next = c.waiters;
  c.waiters = w;
  w->next = nullptr;
  w->prev = b.tcp_wait_tail;
  if (b.tcp_wait_tail) {
    b.tcp_wait_tail->next = w;
  } else {
    b.tcp_wait_head = w;
  }
  b.tcp_wait_tail = w;
  return *w;
}

void Worker::stop_waiting(TcpQuery& q) {
  TcpWaiter& w = *q.waiter;
  (q.wait_prev ? q.wait_prev->wait_next : w.head) = q.wait_next;
  (q.wait_next ? q.wait_next->wait_prev : w.tail) = q.wait_prev;
  (q.age_prev ? q.age_prev->age_next : tcp_wait_oldest_) = q.age_next;
  (q.age_next ? q.age_next->age_prev : tcp_wait_newest_) = q.age_prev;
  q.waiter = nullptr;
  q.wait_prev = q.wait_next = q.age_prev = q.age_next = nullptr;
  counters_.tcp.backend_waiting.sub();
  if (!w.head) release_tcp_waiter(w);
}

// An empty waiter leaves its backend's turn order and its client's list.
void Worker::release_tcp_waiter(TcpWaiter& w) {
  Backend& b = backends_[w.server];
  (w.prev ? w.prev->next : b.tcp_wait_head) = w.next;
  (w.next ? w.next->prev : b.tcp_wait_tail) = w.prev;
  TcpWaiter** link = &w.client->waiters;
  while (*link != &w) link = &(*link)->client_next;
  *link = w.client_next;
  w.client = nullptr;
  w.prev = w.client_next = nullptr;
  w.next = tcp_waiter_free_;
  tcp_waiter_free_ = &w;
}

// The next query in turn: the first waiter's oldest; that waiter, if it has
// more, goes last.
TcpQuery& Worker::next_waiting_query(Backend& b) {
  TcpWaiter& w = *b.tcp_wait_head;
  TcpQuery& q = *w.head;
  if (w.head != w.tail && b.tcp_wait_tail != &w) {
    b.tcp_wait_head = w.next;
    w.next->prev = nullptr;
    w.prev = b.tcp_wait_tail;
    w.next = nullptr;
    b.tcp_wait_tail->next = &w;
    b.tcp_wait_tail = &w;
  }
  stop_waiting(q);
  return q;
}

// As many waiting queries as the backend's connections have room for.
void Worker::serve_tcp_waiters(Backend& b) {
  while (b.tcp_wait_head) {
    bool connect_failed = false;
    TcpBackendConn* conn = tcp_backend_conn(b, nullptr, connect_failed);
    if (!conn && !connect_failed) return;  // full: the next answer or close wakes this again
    TcpQuery& q = next_waiting_query(b);
    if (!conn) {
      failed_try_or_wait(b, q);
    } else if (!send_tcp_query(*conn, q)) {
      retry_or_servfail(q, conn);
    }
  }
}

// From the tick and the pump: queries that waited tcp_backend_timeout since they were read.
void Worker::expire_tcp_waiting() {
  const uint64_t limit = ms_to_ns(policy_->image->options.tcp.backend_timeout_ms);
  while (tcp_wait_oldest_ && tcp_wait_oldest_->read_ns + limit <= now_ns_) {
    TcpQuery& q = *tcp_wait_oldest_;
    stop_waiting(q);
    counters_.tcp.backend_wait_timeouts.add();
    counters_.timeouts.add();
    backends_[q.server].counters->timeouts.add();
    tap_timed_out(q);
    tcp_timed_out(q);
  }
}

// A closed client's waiting queries are not sent: nobody would read the answers.
void Worker::cancel_tcp_waits(TcpClientConn& c) {
  while (c.waiters) {
    TcpQuery& q = *c.waiters->head;
    stop_waiting(q);
    counters_.tcp.answers_discarded.add();
    finish_tcp_query(q);
  }
}

// Room may have come at `b` (an answer, a closed connection, a reload): its
// wait list is served at the pump's next turn.
void Worker::wake_tcp_backend(Backend& b) {
  if (b.tcp_wake || !b.tcp_wait_head) return;
  b.tcp_wake = true;
  tcp_wake_backends_.push_back(b.id);
  start_tcp_pump();
}

void Worker::resume_tcp_client_later(TcpClientConn& c) {
  if (c.resume_pending || c.closed) return;
  c.resume_pending = true;
  tcp_resume_.push_back(&c);
  start_tcp_pump();
}

void Worker::start_tcp_pump() {
  if (tcp_pump_active_ || finishing_) return;
  tcp_pump_active_ = true;
  uv_idle_start(&tcp_pump_, [](uv_idle_t* h) { static_cast<Worker*>(h->data)->on_tcp_pump(); });
}

void Worker::on_tcp_pump() {
  if (finishing_) return;
  begin_batch();
  expire_tcp_waiting();  // not sent when their time is up: SERVFAIL, as the tick would
  // Waiting queries first, then what paused clients send next: no overtaking.
  // Both lists may grow while they are walked (by index, so that is safe).
  for (size_t i = 0; i < tcp_wake_backends_.size(); ++i) {
    Backend& b = backends_[tcp_wake_backends_[i]];
    b.tcp_wake = false;
    serve_tcp_waiters(b);
  }
  tcp_wake_backends_.clear();
  for (size_t i = 0; i < tcp_resume_.size(); ++i) {
    if (TcpClientConn* c = tcp_resume_[i]) {
      c->resume_pending = false;
      resume_tcp_client(*c);
    }
  }
  tcp_resume_.clear();
  flush();
  if (tcp_wake_backends_.empty()) {  // a resumed client may have woken a backend: another turn
    uv_idle_stop(&tcp_pump_);
    tcp_pump_active_ = false;
  }
  maybe_finish();
}

}  // namespace dnspc::runtime
