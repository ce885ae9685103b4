#include "worker.h"

#include <fmt/format.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

#include "dnspc/runtime/log.h"
#include "dnspc/wire.h"
#include "dnspc/runtime/lb.h"
#include "dnspc/runtime/sockets.h"

namespace dnspc::runtime {

namespace {

constexpr unsigned kMaxRounds = 16;  // batches per wake-up before other sockets get a turn

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool same_source(const SockAddr& a, const NetAddress& server) {
  if (server.is_v4()) {
    return a.sa.sa_family == AF_INET && ntohs(a.in4.sin_port) == server.port &&
           std::memcmp(&a.in4.sin_addr, server.bytes, 4) == 0;
  }
  return a.sa.sa_family == AF_INET6 && ntohs(a.in6.sin6_port) == server.port &&
         std::memcmp(&a.in6.sin6_addr, server.bytes, 16) == 0;
}

NetAddress to_net_address(const SockAddr& a) { return NetAddress::from_sockaddr(&a.sa); }

const char* qtype_mnemonic(uint16_t t, char (&buf)[16]) {
  switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case 28: return "AAAA";
    case 33: return "SRV";
    case 43: return "DS";
    case 46: return "RRSIG";
    case 48: return "DNSKEY";
    case 65: return "HTTPS";
    case 255: return "ANY";
    default: snprintf(buf, sizeof buf, "TYPE%u", t); return buf;
  }
}

// "192.0.2.1:53" or "[2001:db8::1]:53", without allocating.
void format_client(const SockAddr& a, char (&out)[64]) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (a.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &a.in4.sin_addr, host, sizeof host);
    port = ntohs(a.in4.sin_port);
    snprintf(out, sizeof out, "%s:%u", host, port);
  } else {
    inet_ntop(AF_INET6, &a.in6.sin6_addr, host, sizeof host);
    port = ntohs(a.in6.sin6_port);
    snprintf(out, sizeof out, "[%s]:%u", host, port);
  }
}

void poll_cb(uv_poll_t* handle, int status, int events) {
  (void)events;
  auto* ref = static_cast<PollRef*>(handle->data);
  if (status < 0) return;
  ref->worker->on_readable(*ref);
}

}  // namespace

// The LB state a worker offers select_server(): inlined, no virtual calls.
struct WorkerLb {
  Worker& w;
  uint32_t& rr;
  bool usable(uint32_t id) const { return w.usable(id); }
  uint32_t outstanding(uint32_t id) const { return w.backends_[id].outstanding; }
  uint32_t latency_us(uint32_t id) const { return w.backends_[id].latency_us; }
  bool take_qps(const LbServer& s) {
    ServerEntry& e = *w.backends_[s.id].entry;
    return e.qps_limiter.try_take(w.policy_->server_qps[s.id], w.now_ns_);
  }
  uint64_t random() { return w.fast_random_.next(); }
  uint32_t& round_robin() { return rr; }
};

void RxBatch::init(size_t size, bool with_control) {
  buffer_size = size;
  if (with_control) control.reset(new uint8_t[kControlSize * kBatch]);
  buffers.reset(new uint8_t[size * kBatch]);  // not zeroed: pages are touched only when used
  for (unsigned i = 0; i < kBatch; ++i) {
    iov[i].iov_base = buffer(i);
    iov[i].iov_len = size;
    std::memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &names[i];
    msgs[i].msg_hdr.msg_namelen = sizeof names[i];
    if (control) msgs[i].msg_hdr.msg_control = control.get() + i * kControlSize;
  }
}

void RxBatch::reset(unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    msgs[i].msg_hdr.msg_namelen = sizeof names[i];
    msgs[i].msg_hdr.msg_flags = 0;
    if (control) msgs[i].msg_hdr.msg_controllen = kControlSize;
  }
}

Worker::Worker(Config config)
    : config_(std::move(config)), registry_(*config_.registry),
      rings_(registry_.rings(config_.index)),
      counters_(registry_.worker(config_.index)) {
  uv_loop_init(&loop_);
}

Worker::~Worker() {
  if (thread_.joinable()) thread_.join();
  // A worker that never ran (the start failed after it was opened) still has
  // its handles: closed here, or the loop cannot close and leaks its memory.
  uv_walk(&loop_, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  for (Listener& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
  }
  for (Backend& b : backends_) {
    for (int fd : b.fds) ::close(fd);
  }
  uv_loop_close(&loop_);
}

bool Worker::open(std::string& error) {
  policy_ = config_.policy->load(std::memory_order_acquire);
  client_rx_.init(kQueryBufferSize, /*with_control=*/true);
  backend_rx_.init(kAnswerBufferSize);
  local_answers_.reset(new uint8_t[kLocalAnswerSize * kBatch]);
  log_ = std::make_unique<QueryLogBuffer>();

  if (!open_tcp(error)) return false;

  // Listeners.
  // A reload adds listeners without moving these (their poll handles are in
  // the loop): room for the most a policy may have.
  listeners_.reserve(255);
  listeners_.resize(config_.listener_fds.size());
  for (size_t i = 0; i < listeners_.size(); ++i) {
    Listener& l = listeners_[i];
    l.address = config_.listen_addresses[i];
    l.fd = config_.listener_fds[i];
    l.tx = std::make_unique<TxQueue>();
    l.ref = {this, true, static_cast<uint32_t>(i), 0};
  }
  config_.listener_fds.clear();  // owned by listeners_ now
  if (policy_->kernel_ifindex) want_arrival_interface();

  // Backends: every registry server, several sockets each.
  const unsigned nsock = std::clamp(config_.sockets_per_backend, 1u, 64u);
  backends_.resize(registry_.server_count());
  uint64_t slots = 0;
  for (uint32_t id = 0; id < backends_.size(); ++id) {
    Backend& b = backends_[id];
    bind_backend(b, id);
    b.polls = std::make_unique<uv_poll_t[]>(nsock);
    b.refs = std::make_unique<PollRef[]>(nsock);
    for (unsigned s = 0; s < nsock; ++s) {
      uint16_t port = 0;
      int fd = open_backend_socket(b.address.family, error, &port);
      if (fd < 0) return false;
      b.fds.push_back(fd);
      b.ports.push_back(port);
      b.refs[s] = {this, false, id, s};
    }
    slots += policy_->max_outstanding;
  }
  in_flight_.reserve(static_cast<uint32_t>(backends_.size()), policy_->max_outstanding, slots);

  // The per-batch lists of touched sockets never grow past these, so the
  // packet path never allocates for them.
  touched_.reserve(backends_.size());
  listeners_touched_.reserve(255);
  round_robin_.assign(policy_->pools.size(), 0);
  for (uint32_t& rr : round_robin_) rr = random_.u32();  // workers do not all start on the first server
  fast_random_ = FastRandom(random_.u64());
  state_.random = random_.u64() | 1;
  state_.rate_limiters = policy_->limiters;
  state_.source_tables = policy_->source_tables;
  bind_taps_for(*policy_);
  bind_lua_for(*policy_);
  answer_stage_.set_log(&Worker::log_response, this);
  answer_stage_.set_worker(config_.index);
  if (uint32_t words = scratch_words_needed(*policy_)) {
    // Native code's working memory, one buffer per worker (query and response rules take turns).
    scratch_.reset(new uint32_t[words]());
    state_.scratch = scratch_.get();
    state_.scratch_words = words;
  }

  // Handles, on this worker's loop (the thread has not started yet).
  for (Listener& l : listeners_) {
    uv_poll_init(&loop_, &l.poll, l.fd);
    l.poll.data = &l.ref;
  }
  for (Backend& b : backends_) {
    for (unsigned s = 0; s < b.fds.size(); ++s) {
      uv_poll_init(&loop_, &b.polls[s], b.fds[s]);
      b.polls[s].data = &b.refs[s];
    }
  }
  uv_timer_init(&loop_, &tick_);
  tick_.data = this;
  held_.set_capacity(policy_->image->options.max_held_answers);
  uv_timer_init(&loop_, &hold_timer_);
  hold_timer_.data = this;
  uv_idle_init(&loop_, &tcp_pump_);
  tcp_pump_.data = this;
  uv_async_init(&loop_, &command_, [](uv_async_t* h) { static_cast<Worker*>(h->data)->on_command(); });
  command_.data = this;
  return true;
}

void Worker::start() {
  for (Listener& l : listeners_) uv_poll_start(&l.poll, UV_READABLE, poll_cb);
  for (Backend& b : backends_) {
    for (unsigned s = 0; s < b.fds.size(); ++s) uv_poll_start(&b.polls[s], UV_READABLE, poll_cb);
  }
  uint64_t tick_ms = std::clamp<uint64_t>(policy_->udp_timeout_ns / 10'000'000ull, 5, 100);
  uv_timer_start(&tick_, [](uv_timer_t* h) { static_cast<Worker*>(h->data)->on_tick(); }, tick_ms, tick_ms);
  start_tcp();
  thread_ = std::thread([this] { run(); });
}

void Worker::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  done_.store(true, std::memory_order_release);
  if (config_.done_notify) uv_async_send(config_.done_notify);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::drain() {
  int expected = 0;
  request_.compare_exchange_strong(expected, 1);
  uv_async_send(&command_);
}

void Worker::stop_now() {
  request_.store(2);
  uv_async_send(&command_);
}

void Worker::on_command() {
  run_posted();
  // A reload published a policy: an idle worker swaps now, not at its next batch.
  const ActivePolicy* published = config_.policy->load(std::memory_order_acquire);
  if (!finishing_ && published != policy_) adopt_policy(published);
  int r = request_.load();
  if (r == 2) {
    // Forget what is in flight: nothing more will be sent.
    finish();
    return;
  }
  if (r == 1 && !draining_) {
    draining_ = true;
    for (Listener& l : listeners_) uv_poll_stop(&l.poll);
    for (auto& l : tcp_listeners_) uv_close(reinterpret_cast<uv_handle_t*>(&l->handle), nullptr);
    tcp_listeners_closed_ = true;
    // TCP clients: no new queries; what they are owed is answered and
    // written, then each connection ends.
    for (TcpClientConn* c = tcp_clients_; c;) {
      TcpClientConn* next = c->next;
      end_tcp_client(*c);
      c = next;
    }
    maybe_finish();
  }
}

void Worker::maybe_finish() {
  if (!draining_ || in_flight_.size() != 0 || tcp_in_flight_ != 0 || held_.size() != 0) return;
  // Every TCP client has been written all it is owed (its FIN is on the way).
  for (const TcpClientConn* c = tcp_clients_; c; c = c->next) {
    if (!c->shutting_down) return;
  }
  finish();
}

void Worker::finish() {
  if (finishing_) return;
  finishing_ = true;
  if (!log_->empty()) log_->flush();
  if (recorder_) {
    recorder_->end_batch();  // the block evaluator must not wait for this worker
    recorder_ = nullptr;
  }
  finish_tcp();
  for (Listener& l : listeners_) {
    // A listener a reload removed is closed already.
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&l.poll))) uv_close(reinterpret_cast<uv_handle_t*>(&l.poll), nullptr);
  }
  for (Backend& b : backends_) {
    for (unsigned s = 0; s < b.fds.size(); ++s) uv_close(reinterpret_cast<uv_handle_t*>(&b.polls[s]), nullptr);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&hold_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_pump_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&command_), nullptr);
}

// ---------------------------------------------------------------- batches

void Worker::begin_batch() {
  // The swap point: one pointer load per batch.
  const ActivePolicy* p = config_.policy->load(std::memory_order_acquire);
  if (p != policy_) adopt_policy(p);  // a reload published it (worker_reload.cc)
  // Dynamic blocks: the previous batch has ended; this one counts into the
  // policy's engine and sees its newest blocks. An idle worker stays "in" its
  // last batch until its next tick, which the evaluator waits for.
  if (recorder_) recorder_->end_batch();
  recorder_ = policy_->blocks ? &policy_->blocks->recorder(config_.index) : nullptr;
  if (recorder_) recorder_->begin_batch();
  state_.rate_limiters = policy_->limiters;
  state_.source_tables = policy_->source_tables;
  now_ns_ = monotonic_ns();
  ++epoch_;
  local_used_ = 0;
  counters_.batches.add();
}

// A backend's fixed facts, from its registry entry (whose address never
// changes: a server is keyed by it).
void Worker::bind_backend(Backend& b, uint32_t id) {
  ServerEntry& e = registry_.server(id);
  b.id = id;
  b.address = e.spec.address;
  sockaddr_storage ss{};
  b.sa_len = b.address.to_sockaddr(ss);
  std::memcpy(&b.sa, &ss, std::min<size_t>(sizeof b.sa, b.sa_len));
  b.up = &e.up;
  b.entry = &e;
  b.counters = &counters_.servers[id];
  b.tx = std::make_unique<TxQueue>();
}

uint32_t scratch_words_needed(const ActivePolicy& p) {
  return std::max(p.decide.scratch_words, p.image->response_decide.scratch_words);
}

uint8_t* Worker::next_local_buffer() {
  if (local_used_ == kBatch) flush();  // cannot happen within one batch; timeouts may need more
  return local_answers_.get() + local_used_ * kLocalAnswerSize;
}

uint8_t* Worker::local_buffer() {
  uint8_t* out = next_local_buffer();
  ++local_used_;
  return out;
}

void Worker::on_readable(PollRef& ref) {
  if (finishing_) return;
  if (ref.listener) {
    Listener& l = listeners_[ref.index];
    for (unsigned round = 0; round < kMaxRounds && !draining_; ++round) {
      client_rx_.reset(kBatch);
      int n = recvmmsg(l.fd, client_rx_.msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      begin_batch();
      for (unsigned i = 0; i < static_cast<unsigned>(n); ++i) handle_query(l, client_rx_, i);
      flush();
      if (static_cast<unsigned>(n) < kBatch) break;
    }
  } else {
    Backend& b = backends_[ref.index];
    int fd = b.fds[ref.socket];
    for (unsigned round = 0; round < kMaxRounds; ++round) {
      backend_rx_.reset(kBatch);
      int n = recvmmsg(fd, backend_rx_.msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      begin_batch();
      for (unsigned i = 0; i < static_cast<unsigned>(n); ++i) handle_answer(b, ref.socket, backend_rx_, i);
      flush();
      if (static_cast<unsigned>(n) < kBatch) break;
    }
    maybe_finish();
  }
}

void Worker::on_tick() {
  if (finishing_) return;
  begin_batch();
  expire(now_ns_, false);
  expire_tcp_waiting();
  flush();
  counters_.random_refills.set(random_.refills());
  close_drained();
  maybe_finish();
}

namespace {

// Sends every queued message, skipping one that fails outright (sendmmsg
// reports an error only for the first message it could not send).
unsigned send_all(int fd, TxQueue& q, unsigned& errors) {
  unsigned sent = 0, off = 0;
  while (off < q.count) {
    int r = sendmmsg(fd, q.msgs + off, q.count - off, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        errors += q.count - off;
        break;
      }
      ++errors;
      ++off;
      continue;
    }
    sent += static_cast<unsigned>(r);
    off += static_cast<unsigned>(r);
  }
  q.count = 0;
  return sent;
}

}  // namespace

void Worker::flush() {
  for (uint32_t id : touched_) {
    Backend& b = backends_[id];
    b.touched = false;
    unsigned errors = 0;
    send_all(b.fds[b.batch_socket], *b.tx, errors);
    if (errors) {
      counters_.backend_send_errors.add(errors);
      b.counters->send_errors.add(errors);
    }
  }
  touched_.clear();
  for (uint32_t li : listeners_touched_) {
    Listener& l = listeners_[li];
    unsigned errors = 0;
    unsigned sent = send_all(l.fd, *l.tx, errors);
    counters_.answers.add(sent);
    if (errors) counters_.client_send_errors.add(errors);
  }
  listeners_touched_.clear();
  local_used_ = 0;
  if (!log_->empty()) log_->flush();
}

void Worker::answer_local(Listener& l, const SockAddr& to, socklen_t to_len, const uint8_t* data, size_t len) {
  TxQueue& q = *l.tx;
  if (q.count == kBatch) flush();
  if (q.count == 0) listeners_touched_.push_back(l.ref.index);
  unsigned k = q.count++;
  std::memcpy(&q.names[k], &to, std::min<size_t>(to_len, sizeof(SockAddr)));
  q.iov[k].iov_base = const_cast<uint8_t*>(data);
  q.iov[k].iov_len = len;
  std::memset(&q.msgs[k], 0, sizeof q.msgs[k]);
  q.msgs[k].msg_hdr.msg_name = &q.names[k];
  q.msgs[k].msg_hdr.msg_namelen = to_len;
  q.msgs[k].msg_hdr.msg_iov = &q.iov[k];
  q.msgs[k].msg_hdr.msg_iovlen = 1;
}

// ---------------------------------------------------------------- queries

void Worker::handle_query(Listener& l, RxBatch& rx, unsigned i) {
  counters_.queries.add();
  mmsghdr& m = rx.msgs[i];
  if (m.msg_hdr.msg_flags & MSG_TRUNC) {
    counters_.oversized.add();
    return;
  }
  Client c;
  c.listener = &l;
  c.address = &rx.names[i];
  c.address_len = m.msg_hdr.msg_namelen;
  size_t size = m.msg_len;
  if (policy_->kernel_ifindex) c.first_rule = kernel_first_rule(rx.buffer(i), size, m.msg_hdr);
  process_query(c, rx.buffer(i), size, Transport::kUdp);
}

void Worker::reply(const Client& c, const uint8_t* data, size_t len, AnswerSource source) {
  // Every answer made while processing a query (view_) passes here.
  const QueryView& q = view_;
  record_answer({q.packet ? q.packet + kHeaderSize : nullptr, q.packet ? q.qname_length : uint8_t{0}, q.qtype,
                 q.source, q.transport, data, len, 0, TrafficRecord::kNone, deciding_rule_, deciding_action_,
                 source});
  if (c.tcp) {
    tcp_answer_owed_ = true;
    tcp_send(*c.tcp, data, len);
  } else if (reply_delay_ms_) {
    hold_answer(static_cast<uint8_t>(c.listener->ref.index), *c.address, c.address_len, data, len, reply_delay_ms_);
  } else {
    answer_local(*c.listener, *c.address, c.address_len, data, len);
  }
}

void Worker::hold_answer(uint8_t listener, const SockAddr& to, socklen_t to_len, const uint8_t* data, size_t len,
                         uint32_t delay_ms) {
  uint64_t at = now_ns_ + delay_ms * 1'000'000ull;
  if (!held_.hold(at, listener, to, to_len, data, len)) {
    counters_.delay_dropped.add();
    return;
  }
  counters_.delayed.add();
  if (at < hold_timer_at_) {
    hold_timer_at_ = at;
    uv_timer_start(&hold_timer_, [](uv_timer_t* t) { static_cast<Worker*>(t->data)->on_hold_timer(); },
                   (at - now_ns_ + 999'999) / 1'000'000, 0);
  }
}

void Worker::on_hold_timer() {
  if (finishing_) return;
  begin_batch();
  held_.release_due(now_ns_, [this](uint8_t listener, const SockAddr& to, socklen_t to_len, const uint8_t* data,
                                    size_t len) {
    if (listener < listeners_.size()) answer_local(listeners_[listener], to, to_len, data, len);
  });
  flush();
  hold_timer_at_ = held_.next_release();
  if (hold_timer_at_ != UINT64_MAX) {
    uint64_t wait_ms = hold_timer_at_ > now_ns_ ? (hold_timer_at_ - now_ns_ + 999'999) / 1'000'000 : 0;
    uv_timer_start(&hold_timer_, [](uv_timer_t* t) { static_cast<Worker*>(t->data)->on_hold_timer(); }, wait_ms, 0);
  }
  maybe_finish();
}

void Worker::process_query(const Client& c, uint8_t* packet, size_t size, Transport transport) {
  QueryInput in;
  in.packet = packet;
  in.size = size;
  in.transport = transport;
  in.source = to_net_address(*c.address);
  in.destination = c.tcp ? c.tcp->destination : c.listener->address;
  in.first_rule = c.first_rule;
  // Bound per query: a policy or a batch's block recorder may have changed
  // since the last one, and this costs four stores.
  query_path_.bind(policy_, recorder_, &state_, &taps_, lua_);
  uint8_t* out = next_local_buffer();
  const QueryOutcome o = query_path_.run(in, now_ns_, view_, out, kLocalAnswerSize);
  deciding_rule_ = o.rule;
  deciding_action_ = o.action;
  deciding_tags_ = o.tags;
  reply_delay_ms_ = o.delay_ms;
  const char* outcome = o.log_outcome;
  uint32_t server = kNil;
  switch (o.fate) {
    case QueryFate::kAnswered:
      ++local_used_;  // the answer stays in the buffer until the batch is flushed
      reply(c, out, o.answer_size);
      break;
    case QueryFate::kForward: {
      CacheProbe probe;
      if (!answer_from_cache(c, o.verdict, o.pool, probe, outcome)) {
        forward(c, packet, view_, o.verdict, o.pool, outcome, server, &probe);
      }
      break;
    }
    case QueryFate::kDropped:
      break;
  }
  reply_delay_ms_ = 0;
  if (!o.decided) return;
  tap_decided(view_, o.verdict, o.blocked, server);
  if (o.verdict.modifiers & modifier_bits::kLog) {
    log_query(view_, *c.address, o.verdict, outcome ? outcome : "dropped", server);
  }
}

// A pool's Lua load-balancing hook (`policy lua NAME`) over the pool's
// servers as this worker sees them.
int Worker::lua_pick(const BoundPool& pool, uint32_t pool_index, const QueryView& q) {
  const PolicyImage& image = *policy_->image;
  const PoolSpec& spec = image.pools[pool_index];
  lua_servers_.resize(pool.lb.servers.size());
  for (size_t i = 0; i < pool.lb.servers.size(); ++i) {
    const LbServer& s = pool.lb.servers[i];
    const Backend& b = backends_[s.id];
    lua::HookServer& out = lua_servers_[i];
    out.address = &b.address;
    out.up = usable(s.id);
    out.outstanding = b.outstanding;
    out.latency_us = b.latency_us;
    out.weight = s.weight;
    out.order = s.order;
    out.qps_headroom = -1;
    if (s.qps != 0) {
      const RateSpec& rate = policy_->server_qps[s.id];
      const uint64_t tat = std::max(b.entry->qps_limiter.theoretical_arrival_ns(), now_ns_);
      const uint64_t ahead = tat - now_ns_;
      out.qps_headroom = ahead > rate.tolerance_ns || rate.interval_ns == 0
                             ? 0
                             : static_cast<int64_t>((rate.tolerance_ns - ahead) / rate.interval_ns + 1);
    }
    out.queries = b.counters->queries.get();
  }
  lua::HookQuery hook_query;
  hook_query.view = &q;
  hook_query.tags = deciding_tags_;
  const lua::PickResult r = lua_->pick(spec.lua_hook, hook_query, pool_index, lua_servers_);
  switch (r.kind) {
    case lua::PickResult::Kind::kServer: return static_cast<int>(r.server);
    case lua::PickResult::Kind::kNone: return -1;
    case lua::PickResult::Kind::kFailed: break;
  }
  return kLuaPickFailed;
}

// The tags the verdict's rule sets (a dynamic block's verdict sets none).
uint64_t Worker::verdict_tags(const Verdict& v) const {
  const PolicyImage& image = *policy_->image;
  return (v.modifiers & modifier_bits::kTag) && v.rule < image.rules.size() ? image.rules[v.rule].tag_bits : 0;
}

void Worker::forward(const Client& c, uint8_t* packet, const QueryView& q, const Verdict& v, uint32_t pool_index,
                     const char*& outcome, uint32_t& server_out, const CacheProbe* probe) {
  const ActivePolicy& p = *policy_;
  if (pool_index >= p.pools.size()) {
    outcome = "dropped (no such pool)";
    return;
  }
  const BoundPool& pool = p.pools[pool_index];
  WorkerLb lb{*this, round_robin_[pool_index]};
  int pick = pool.lb.policy == LbPolicy::kLua && lua_ ? lua_pick(pool, pool_index, q)
                                                      : select_server(pool.lb, q, lb);
  if (pick == kLuaPickFailed) pick = least_outstanding(pool.lb, lb);
  if (pick < 0) {
    if (probe && probe->found.result == CacheFind::kStale) {
      // Every server is down: the expired answer rather than nothing.
      serve_cached(c, *const_cast<CacheProbe*>(probe), true, outcome);
      return;
    }
    if (pool.servfail_on_no_server) {
      counters_.no_server_servfail.add();
      uint8_t* out = local_buffer();
      size_t n = build_rcode_answer(q, rcode::kServFail, out, kLocalAnswerSize);
      if (n) reply(c, out, n);
      outcome = "no server: SERVFAIL";
    } else {
      counters_.no_server_dropped.add();
      outcome = "no server: dropped";
    }
    return;
  }
  const uint32_t id = pool.lb.servers[static_cast<uint32_t>(pick)].id;
  Backend& b = backends_[id];
  server_out = id;
  forward_cache_pool_ = probe ? probe->pool : 0;
  forward_cache_flags_ = probe ? probe->flags : 0;
  if (c.tcp) {
    // Queries that came over TCP go to the backend over TCP.
    if (v.modifiers & (modifier_bits::kNoRecurse | modifier_bits::kSetCd)) {
      if (v.modifiers & modifier_bits::kNoRecurse) set_flag(packet, header_bits::kRD, false);
      if (v.modifiers & modifier_bits::kSetCd) set_flag(packet, header_bits::kCD, true);
    }
    forward_tcp(*c.tcp, packet, q, deciding_tags_, id, outcome);
    return;
  }
  // This batch's socket toward this backend, chosen at random per batch.
  if (b.batch_epoch != epoch_) {
    b.batch_epoch = epoch_;
    b.batch_socket = static_cast<uint8_t>(random_.u16() % b.fds.size());
  }
  InFlightTable::AddResult added;
  const uint32_t slot_index = in_flight_.add(id, b.batch_socket, now_ns_, [this] { return random_.u16(); }, added);
  if (added == InFlightTable::AddResult::kNoSlot) {
    b.counters->full.add();
    outcome = "dropped (no free slot)";
    return;
  }
  if (added == InFlightTable::AddResult::kNoId) {
    counters_.no_id.add();
    outcome = "dropped (no free ID)";
    return;
  }
  InFlightQuery& s = in_flight_[slot_index];
  s.capture(q, q.packet + kHeaderSize);
  s.listener = static_cast<uint8_t>(c.listener->ref.index);
  s.delay_ms = static_cast<uint16_t>(reply_delay_ms_);
  s.tags = deciding_tags_;
  s.rule = deciding_rule_;
  s.cache_pool = forward_cache_pool_;
  s.cache_generation = static_cast<uint32_t>(p.generation);
  s.cache_flags = forward_cache_flags_;
  s.tcp = nullptr;
  s.client_len = c.address_len;
  std::memcpy(&s.client, c.address, std::min<size_t>(c.address_len, sizeof s.client));
  const uint16_t backend_id = s.backend_id;

  // The backend gets our ID and the bits the rule asks for; the client's
  // packet is rewritten in place and sent from the receive buffer.
  set_id(packet, backend_id);
  if (v.modifiers & modifier_bits::kNoRecurse) set_flag(packet, header_bits::kRD, false);
  if (v.modifiers & modifier_bits::kSetCd) set_flag(packet, header_bits::kCD, true);

  TxQueue& tx = *b.tx;
  if (tx.count == kBatch) {
    // Cannot happen within one client batch; kept for safety.
    flush();
  }
  if (!b.touched) {
    b.touched = true;
    touched_.push_back(id);
  }
  unsigned k = tx.count++;
  tx.iov[k].iov_base = packet;
  tx.iov[k].iov_len = q.size;
  std::memset(&tx.msgs[k], 0, sizeof tx.msgs[k]);
  tx.msgs[k].msg_hdr.msg_name = &b.sa;
  tx.msgs[k].msg_hdr.msg_namelen = b.sa_len;
  tx.msgs[k].msg_hdr.msg_iov = &tx.iov[k];
  tx.msgs[k].msg_hdr.msg_iovlen = 1;

  ++b.outstanding;
  b.counters->outstanding.set(b.outstanding);
  b.counters->queries.add();
  counters_.forwarded.add();
  outcome = "forwarded";
}

// ---------------------------------------------------------------- answers

void Worker::handle_answer(Backend& b, uint32_t socket, RxBatch& rx, unsigned i) {
  mmsghdr& m = rx.msgs[i];
  const SockAddr& from = rx.names[i];
  if (!same_source(from, b.address)) {
    counters_.wrong_source.add();
    b.counters->wrong_source.add();
    return;
  }
  uint8_t* packet = rx.buffer(i);
  const size_t size = m.msg_len;
  if (size < kHeaderSize || (m.msg_hdr.msg_flags & MSG_TRUNC)) {
    counters_.backend_malformed.add();
    b.counters->malformed.add();
    return;
  }
  const uint16_t id = read_id(packet);
  const uint32_t slot_index = in_flight_.find(b.id, static_cast<uint8_t>(socket), id);
  if (slot_index == InFlightTable::kNone) {
    counters_.unknown_id.add();
    b.counters->unknown_id.add();
    return;
  }
  InFlightQuery& s = in_flight_[slot_index];
  // answer_matches reads the name, type and class of the query.
  if (!answer_matches(packet, size, id, answer_stage_.expected_question(s))) {
    counters_.mismatched.add();
    b.counters->mismatched.add();
    return;  // the query stays in flight: a forged answer does not cancel it
  }
  deliver_answer(b, s, packet, size);
  release(slot_index);
}





void Worker::release(uint32_t slot_index) {
  Backend& b = backends_[in_flight_[slot_index].server];
  in_flight_.release(slot_index);
  --b.outstanding;
  b.counters->outstanding.set(b.outstanding);
}

void Worker::expire(uint64_t now_ns, bool all) {
  const ActivePolicy& p = *policy_;
  for (uint32_t index; (index = in_flight_.oldest()) != InFlightTable::kNone;) {
    InFlightQuery& s = in_flight_[index];
    if (!all && s.sent_ns + p.udp_timeout_ns > now_ns) break;
    Backend& b = backends_[s.server];
    b.counters->timeouts.add();
    counters_.timeouts.add();
    tap_timed_out(s);
    // The pool's cache may have an answer for it (`stale_on_timeout`);
    // otherwise `timeout_answer` says.
    if (!answer_stale_on_timeout(s) && p.timeout_servfail &&
        answer_servfail(s, AnswerSource::kTimeout)) {
      counters_.timeout_servfail.add();
    }
    release(index);
  }
}

// ---------------------------------------------------------------- logs

void Worker::log_query(const QueryView& q, const SockAddr& from, const Verdict& v, const char* outcome,
                       uint32_t server, const ResponseRuleSpec* response) {
  constexpr size_t kMaxLine = 2048;
  char* out = log_->reserve(kMaxLine);
  if (!out) {
    counters_.log_dropped.add();
    return;
  }
  const ActivePolicy& p = *policy_;
  const PolicyImage& image = *p.image;
  char ts[32];
  format_timestamp(ts);
  char name[kMaxNameLength + 2];
  size_t name_len = qname_text(q, name, sizeof name);
  char qt[16];
  const char* qtype = qtype_mnemonic(q.qtype, qt);
  const size_t block = v.rule - image.rules.size();  // a dynamic block's verdict
  std::string_view rule = response                       ? std::string_view(response->name)
                          : v.rule < image.rules.size() ? std::string_view(image.rules[v.rule].name)
                          : block < image.dynblocks.size() ? std::string_view(image.dynblocks[block].name)
                                                        : "?";
  std::string_view action = action_kind_name(v.action);
  char client_text[64];
  format_client(from, client_text);
  std::string_view server_key = server != kNil ? std::string_view(registry_.server(server).key) : std::string_view();
  uint64_t tags = !(v.modifiers & modifier_bits::kTag) ? 0
                  : response                            ? response->tag_bits
                  : v.rule < image.rules.size()         ? image.rules[v.rule].tag_bits
                                                        : 0;

  size_t len = 0;
  auto put = [&](std::string_view s) {
    size_t n = std::min(s.size(), kMaxLine - 1 - len);
    std::memcpy(out + len, s.data(), n);
    len += n;
  };
  auto put_escaped = [&](std::string_view s) { len = append_json_escaped(out, len, kMaxLine - 1, s); };
  if (log_format() == LogFormat::kJson) {
    put("{\"ts\":\"");
    put(ts);
    put(response ? "\",\"level\":\"info\",\"msg\":\"response\",\"client\":\""
                 : "\",\"level\":\"info\",\"msg\":\"query\",\"client\":\"");
    put(client_text);
    put("\",\"qname\":\"");
    put_escaped(std::string_view(name, name_len));
    put("\",\"qtype\":\"");
    put(qtype);
    put("\",\"rule\":\"");
    put_escaped(rule);
    put("\",\"action\":\"");
    put(action);
    put("\",\"outcome\":\"");
    put(outcome);
    put("\"");
    if (!server_key.empty()) {
      put(",\"server\":\"");
      put_escaped(server_key);
      put("\"");
    }
    if (tags) {
      put(",\"tags\":[");
      bool first = true;
      for (unsigned bit = 0; bit < image.tags.size(); ++bit) {
        if (!(tags >> bit & 1)) continue;
        if (!first) put(",");
        first = false;
        put("\"");
        put_escaped(image.tags[bit]);
        put("\"");
      }
      put("]");
    }
    put("}");
  } else {
    put(ts);
    put(response ? " info: response client=" : " info: query client=");
    put(client_text);
    put(" qname=");
    put_escaped(std::string_view(name, name_len));
    put(" qtype=");
    put(qtype);
    put(" rule=");
    put(rule);
    put(" action=");
    put(action);
    put(" outcome=\"");
    put(outcome);
    put("\"");
    if (!server_key.empty()) {
      put(" server=");
      put(server_key);
    }
    if (tags) {
      put(" tags=");
      bool first = true;
      for (unsigned bit = 0; bit < image.tags.size(); ++bit) {
        if (!(tags >> bit & 1)) continue;
        if (!first) put(",");
        first = false;
        put(image.tags[bit]);
      }
    }
  }
  out[len++] = '\n';
  log_->commit(len);
  counters_.logged.add();
}

}  // namespace dnspc::runtime
