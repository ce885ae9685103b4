// One worker: a thread with its own libuv loop, its own SO_REUSEPORT
// listeners, its own sockets to every backend, its own in-flight table and
// counters. Packets move in batches (recvmmsg / sendmmsg); nothing on the
// packet path allocates, locks or makes a syscall per packet.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/decision_state.h"
#include "dnspc/lua/hook_runtime.h"
#include "dnspc/query_view.h"
#include "dnspc/runtime/id_map.h"
#include "dnspc/runtime/in_flight.h"
#include "query_log.h"
#include "held_answers.h"
#include "dnspc/runtime/random.h"
#include "dnspc/runtime/sock_addr.h"
#include "tcp.h"
#include "dnspc/runtime/answer_stage.h"
#include "dnspc/runtime/query_path.h"
#include "dnspc/runtime/taps.h"
#include "dnspc/runtime/tcp_admission.h"
#include "dnspc/runtime/worker_thread.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

constexpr unsigned kBatch = 64;
constexpr size_t kQueryBufferSize = 4096;   // a larger query is dropped, counted as oversized
constexpr size_t kAnswerBufferSize = 65536;  // backend answers
constexpr size_t kLocalAnswerSize = 4096;    // answers dnspc makes
constexpr uint32_t kNil = 0xffffffffu;

struct TxQueue {
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  SockAddr names[kBatch];
  unsigned count = 0;
};

struct RxBatch {
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  SockAddr names[kBatch];
  std::unique_ptr<uint8_t[]> buffers;
  size_t buffer_size = 0;
  // Listeners only: where IP_PKTINFO says which interface a query came in
  // on (the kernel fast path's mark counts only from its interface).
  static constexpr size_t kControlSize = 64;
  std::unique_ptr<uint8_t[]> control;
  void init(size_t size, bool with_control = false);
  void reset(unsigned n);  // before recvmmsg: name lengths back to full
  uint8_t* buffer(unsigned i) { return buffers.get() + i * buffer_size; }
};

class Worker;

struct PollRef {
  Worker* worker = nullptr;
  bool listener = false;
  uint32_t index = 0;   // listener index, or backend (registry server) id
  uint32_t socket = 0;  // backend socket index
};

struct Backend {
  uint32_t id = 0;
  NetAddress address;
  SockAddr sa{};
  socklen_t sa_len = 0;
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  std::unique_ptr<uv_poll_t[]> polls;
  std::unique_ptr<PollRef[]> refs;
  uint32_t outstanding = 0;
  uint32_t latency_us = 0;
  const std::atomic<bool>* up = nullptr;
  ServerEntry* entry = nullptr;
  ServerCounters* counters = nullptr;
  std::vector<TcpBackendConn*> tcp_conns;  // open or opening
  // TCP queries waiting for room on those connections, by client connection
  // in turn order (worker_tcp_wait.cc).
  TcpWaiter *tcp_wait_head = nullptr, *tcp_wait_tail = nullptr;
  bool tcp_wake = false;  // in the worker's list of backends to serve from their wait list
  // The socket this batch's queries to this backend leave from.
  uint64_t batch_epoch = 0;
  uint8_t batch_socket = 0;
  bool touched = false;
  bool retiring = false;  // no policy uses it: its sockets close once nothing is in flight
  std::unique_ptr<TxQueue> tx;
};

struct Listener {
  NetAddress address;
  int fd = -1;
  uv_poll_t poll;
  PollRef ref;
  std::unique_ptr<TxQueue> tx;
  bool arrival_interface = false;  // IP_PKTINFO asked for (worker_kernel.cc)
};

// Where a query came from and where its answer goes: a UDP listener and a
// client address, or a TCP connection.
struct Client {
  Listener* listener = nullptr;
  const SockAddr* address = nullptr;
  socklen_t address_len = 0;
  TcpClientConn* tcp = nullptr;
  uint32_t first_rule = 0;  // past the kernel's prefix (docs/xdp.md)
};

// What a cache lookup leaves for forwarding (worker_cache.cc).
struct CacheProbe {
  PoolCache* cache = nullptr;  // null: not cached (no cache, no_cache, an uncacheable query)
  CacheLookup found;
  uint8_t* buffer = nullptr;   // the answer found (a local buffer not taken yet)
  uint16_t pool = 0;           // pool index + 1, for the answer's store
  uint8_t flags = 0;           // RD (1) and CD (2) as sent
};

// The scratch words a worker needs for a policy's query and response rules.
uint32_t scratch_words_needed(const ActivePolicy& p);

class Worker {
 public:
  using Config = WorkerConfig;

  explicit Worker(Config config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens the backend sockets and sets up the loop; false with `error` set.
  bool open(std::string& error);
  void start();
  // Thread-safe. drain: stop reading queries, answer or time out what is in
  // flight, then end. stop_now: end at once.
  void drain();
  void stop_now();
  void join();
  bool done() const { return done_.load(std::memory_order_acquire); }

  // The socket ports toward a backend (tests, `servers`).
  const std::vector<uint16_t>& backend_ports(uint32_t server) const { return backends_[server].ports; }

  // libuv callbacks.
  void on_readable(PollRef& ref);
  void on_tick();
  void on_command();

  // Hot reload (worker_reload.cc). post() is thread-safe: runs `job` on
  // this worker's loop, in order.
  void post(std::function<void()> job);
  // On the worker's loop, before `next` is published: sockets toward the
  // servers `next` uses that this worker has none for, in-flight tables and
  // scratch memory as large as `next` needs. False with `error` set.
  bool prepare(const ActivePolicy& next, std::string& error);
  // On the worker's loop: UDP listener changes. `added` and `fds` (taken
  // over) pair up; listeners at `removed` addresses stop reading at once and
  // close after the UDP timeout (their answers still go out meanwhile). The
  // others are not touched.
  void change_listeners(const std::vector<NetAddress>& added, const std::vector<int>& fds,
                        const std::vector<NetAddress>& removed, uint64_t udp_timeout_ns);
  // The policy this worker runs, stored at its swap point; `notify` is
  // signalled each time it changes.
  const ActivePolicy* acknowledged() const { return acknowledged_.load(std::memory_order_acquire); }
  void set_swap_notify(uv_async_t* notify) { swap_notify_ = notify; }
  // Wakes the worker so an idle one reaches its swap point now.
  void wake() { uv_async_send(&command_); }
  void on_listener_closed(uint32_t index);

 private:
  void run();
  void begin_batch();
  void bind_backend(Backend& b, uint32_t id);
  void adopt_policy(const ActivePolicy* p);
  void run_posted();
  void close_drained();
  void flush();
  void handle_query(Listener& l, RxBatch& rx, unsigned i);
  // The kernel fast path's hand-over (worker_kernel.cc): where a UDP query's
  // evaluation starts, removing the kernel's mark and seal; and the listeners asked
  // for the arrival interface once a policy has a kernel program.
  uint32_t kernel_first_rule(uint8_t* packet, size_t& size, const msghdr& header);
  void want_arrival_interface();
  void process_query(const Client& c, uint8_t* packet, size_t size, Transport transport);
  // `stale`: an expired cache entry (worker_cache.cc) served when the pool has no usable server.
  void forward(const Client& c, uint8_t* packet, const QueryView& q, const Verdict& v, uint32_t pool,
               const char*& outcome, uint32_t& server_out, const struct CacheProbe* stale = nullptr);
  // The pool's packet cache (worker_cache.cc): true when the query was
  // answered from it; otherwise `probe` says what forwarding must know (a
  // stale answer to fall back on, what the answer's store needs).
  bool answer_from_cache(const Client& c, const Verdict& v, uint32_t pool, CacheProbe& probe, const char*& outcome);
  // Sends a cache answer in `probe` (fresh or stale) through the answer stage.
  void serve_cached(const Client& c, CacheProbe& probe, bool stale, const char*& outcome);
  // A forwarded query (either transport) timed out: with its pool's
  // `stale_on_timeout`, the cache's answer within the stale window goes to
  // the client as a hit would. False when there is none (nothing was sent).
  bool answer_stale_on_timeout(const InFlightQuery& q);
  void answer_local(Listener& l, const SockAddr& to, socklen_t to_len, const uint8_t* data, size_t len);
  void reply(const Client& c, const uint8_t* data, size_t len, AnswerSource source = AnswerSource::kLocal);
  uint64_t verdict_tags(const Verdict& v) const;
  // A pool's Lua hook's pick: a server index, -1 for none, or kLuaPickFailed
  // (the caller falls back to least_outstanding).
  static constexpr int kLuaPickFailed = -2;
  int lua_pick(const BoundPool& pool, uint32_t pool_index, const QueryView& q);
  // This worker's Lua state of the policy (null without hooks), bound with it.
  void bind_lua_for(const ActivePolicy& p);
  void hold_answer(uint8_t listener, const SockAddr& to, socklen_t to_len, const uint8_t* data, size_t len,
                   uint32_t delay_ms);
 public:
  void on_hold_timer();

 private:
  // Room for one answer dnspc makes, sent with the batch: next_local_buffer()
  // looks without taking it, local_buffer() takes it.
  uint8_t* next_local_buffer();
  uint8_t* local_buffer();
  void handle_answer(Backend& b, uint32_t socket, RxBatch& rx, unsigned i);
  // Recent traffic (worker_rings.cc).
  struct AnswerFacts {
    const uint8_t* qname;  // wire, any case
    uint8_t qname_length;
    uint16_t qtype;
    NetAddress client;
    Transport transport;
    const uint8_t* answer;
    size_t size;
    uint32_t latency_us;
    uint32_t server;  // registry id or TrafficRecord::kNone
    uint32_t rule;    // registry id or TrafficRecord::kNone
    ActionKind action;
    AnswerSource source;
  };
  // The lifecycle taps (taps.h; worker_taps.cc), bound with each policy.
  void bind_taps_for(const ActivePolicy& p);
  // "query received" taps run in the query path (query_path.cc).
  void tap_decided(const QueryView& q, const Verdict& v, bool blocked, uint32_t server);
  void tap_timed_out(const InFlightQuery& q);
  // Counts an answer sent to a client and runs the "answered" taps.
  void record_answer(const AnswerFacts& a);
  void ring_query(const QueryView& q, const Verdict& v, bool blocked, uint32_t server);
  void ring_answer(const AnswerFacts& a);
  void expire(uint64_t now_ns, bool all);
  // The answer stage, both transports (answer_stage.h; worker_answers.cc).
  NetAddress destination_of(const InFlightQuery& q) const;
  static void log_response(void* context, const QueryView& q, const SockAddr& client, const Verdict& v,
                           const char* outcome, uint32_t server, const ResponseRuleSpec& rule);
  void deliver_answer(Backend& b, const InFlightQuery& q, uint8_t* packet, size_t size);
  // `may_delay`: a UDP answer is held for the rule's `delay`.
  void send_answer(const InFlightQuery& q, const uint8_t* data, size_t len, bool may_delay);
  // False when no answer could be made (nothing was sent).
  bool answer_servfail(const InFlightQuery& q, AnswerSource source);
  void release(uint32_t slot_index);
  // `response`: a response rule's line (its name, its tags) rather than the query rule's.
  void log_query(const QueryView& q, const SockAddr& from, const Verdict& v, const char* outcome, uint32_t server,
                 const ResponseRuleSpec* response = nullptr);

  // TCP (worker_tcp_client.cc, worker_tcp_backend.cc).
 public:
  void on_tcp_connection(TcpListener& l);
  void on_tcp_client_read(TcpClientConn& c, ssize_t nread);
  void on_tcp_client_timer(TcpClientConn& c);
  void on_tcp_client_handle_closed(TcpClientConn& c);
  void on_tcp_client_shutdown(TcpClientConn& c);
  void on_tcp_client_output(TcpClientConn& c, bool failed);
  void on_tcp_backend_connected(TcpBackendConn& c, int status);
  void on_tcp_backend_read(TcpBackendConn& c, ssize_t nread);
  void on_tcp_backend_timer(TcpBackendConn& c);
  void on_tcp_backend_handle_closed(TcpBackendConn& c);
  void on_tcp_pump();

 private:
  bool open_tcp(std::string& error);
  bool add_tcp_listener(const NetAddress& address, int fd, std::string& error);
  void listen_tcp(TcpListener& l);
  void change_tcp_listeners(const std::vector<NetAddress>& added, const std::vector<NetAddress>& removed);
  void retime_tcp();
  void start_tcp();
  void finish_tcp();
  void tcp_send(TcpClientConn& c, const uint8_t* data, size_t len);
  void close_tcp_client(TcpClientConn& c, Counter* reason);
  void arm_tcp_client_timer(TcpClientConn& c);
  void maybe_end_tcp_client(TcpClientConn& c);
  void end_tcp_client(TcpClientConn& c);  // no more queries: answer what is owed, then close
  void end_tcp_client_after_drop(TcpClientConn& c);
  void handle_tcp_client_input(TcpClientConn& c);
  void pause_tcp_client(TcpClientConn& c);
  void resume_tcp_client(TcpClientConn& c);
  void forward_tcp(TcpClientConn& client, const uint8_t* packet, const QueryView& q, uint64_t tags, uint32_t server,
                   const char*& outcome);
  TcpBackendConn* tcp_backend_conn(Backend& b, const TcpBackendConn* exclude, bool& connect_failed);
  void send_or_wait(Backend& b, TcpQuery& q, const TcpBackendConn* exclude);
  void failed_try_or_wait(Backend& b, TcpQuery& q);
  // The wait list (worker_tcp_wait.cc).
  void wait_for_tcp_room(Backend& b, TcpQuery& q);
  TcpWaiter& tcp_waiter_for(TcpClientConn& c, Backend& b);
  void stop_waiting(TcpQuery& q);
  void release_tcp_waiter(TcpWaiter& w);
  TcpQuery& next_waiting_query(Backend& b);
  void serve_tcp_waiters(Backend& b);
  void expire_tcp_waiting();
  void cancel_tcp_waits(TcpClientConn& c);
  void wake_tcp_backend(Backend& b);
  void resume_tcp_client_later(TcpClientConn& c);
  void start_tcp_pump();
  bool send_tcp_query(TcpBackendConn& conn, TcpQuery& q);
  void handle_tcp_answer(TcpBackendConn& conn, uint8_t* packet, size_t size);
  void fail_tcp_backend(TcpBackendConn& conn, Counter* reason, bool timed_out);
  void close_tcp_backend(TcpBackendConn& conn);
  void arm_tcp_backend_timer(TcpBackendConn& conn);
  void retry_or_servfail(TcpQuery& q, const TcpBackendConn* failed);
  void tcp_servfail(TcpQuery& q);
  // A TCP query past its backend timeout: a stale answer (answer_stale_on_timeout) or SERVFAIL.
  void tcp_timed_out(TcpQuery& q);
  void finish_tcp_query(TcpQuery& q);
  TcpQuery* take_tcp_query();

  void finish();
  void maybe_finish();
  bool usable(uint32_t id) const {
    const Backend& b = backends_[id];
    return b.up->load(std::memory_order_relaxed) && b.outstanding < policy_->max_outstanding;
  }
  friend struct WorkerLb;

  Config config_;
  Registry& registry_;
  WorkerRings& rings_;
  // The query being processed: its rule (registry id) and action, for the
  // rings' records of answers made while processing it.
  uint32_t deciding_rule_ = TrafficRecord::kNone;
  uint64_t deciding_tags_ = 0;  // the deciding rule's tags and its Lua action's
  // The query being forwarded: what its answer's cache store needs (CacheProbe's).
  uint16_t forward_cache_pool_ = 0;
  uint8_t forward_cache_flags_ = 0;
  CacheKey cache_key_;
  std::unique_ptr<uint8_t[]> cache_scratch_{new uint8_t[kLocalAnswerSize]};  // a hit's answer as the answer stage remade it
  lua::HookRuntime* lua_ = nullptr;
  lua::PredicateBinding lua_binding_;
  std::vector<lua::HookServer> lua_servers_;  // a Lua pick's view of the pool; grows once per size
  ActionKind deciding_action_ = ActionKind::kDrop;
  WorkerCounters& counters_;
  Taps taps_;
  QueryPath query_path_{counters_};
  AnswerStage answer_stage_{counters_};
  uv_loop_t loop_;
  uv_timer_t tick_;
  uv_async_t command_;
  std::atomic<int> request_{0};  // 1 drain, 2 stop now
  bool draining_ = false;
  bool finishing_ = false;
  std::atomic<bool> done_{false};
  // Hot reload: jobs from the main thread, the policy acknowledged, what
  // closes once drained (worker_reload.cc).
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<const ActivePolicy*> acknowledged_{nullptr};
  uv_async_t* swap_notify_ = nullptr;
  std::vector<uint32_t> retiring_;
  struct ClosingListener {
    uint32_t index;
    uint64_t close_at_ns;
  };
  std::vector<ClosingListener> closing_listeners_;
  std::thread thread_;

  const ActivePolicy* policy_ = nullptr;
  uint64_t now_ns_ = 0;
  uint64_t epoch_ = 0;
  DecisionState state_;
  std::unique_ptr<uint32_t[]> scratch_;  // the decision function's working memory
  BufferedRandom random_;
  FastRandom fast_random_;
  std::vector<uint32_t> round_robin_;  // per pool

  std::vector<Listener> listeners_;
  std::vector<Backend> backends_;  // by registry server id
  std::vector<uint32_t> touched_;  // backends with queued queries this batch
  std::vector<uint32_t> listeners_touched_;

  RxBatch client_rx_;
  RxBatch backend_rx_;
  std::unique_ptr<uint8_t[]> local_answers_;
  unsigned local_used_ = 0;

  InFlightTable in_flight_;  // UDP queries toward backends

  // TCP.
  std::vector<std::unique_ptr<TcpListener>> tcp_listeners_;
  std::vector<std::unique_ptr<TcpListener>> closed_tcp_listeners_;  // closed handles, freed with the worker
  TcpClientConn* tcp_clients_ = nullptr;  // open client connections (a list)
  std::vector<std::unique_ptr<TcpQuery>> tcp_queries_;  // every one ever made, reused
  TcpQuery* tcp_free_ = nullptr;
  uint32_t tcp_in_flight_ = 0;  // forwarded TCP queries not answered yet, waiting ones included
  std::vector<std::unique_ptr<TcpWaiter>> tcp_waiter_pool_;  // every one ever made, reused
  TcpWaiter* tcp_waiter_free_ = nullptr;
  // Every waiting query, by read time (for timeouts).
  TcpQuery *tcp_wait_oldest_ = nullptr, *tcp_wait_newest_ = nullptr;
  // The pump: work found inside a callback (room freed at a backend, a
  // paused client under its share again) done once per loop turn.
  uv_idle_t tcp_pump_{};
  bool tcp_pump_active_ = false;
  std::vector<uint32_t> tcp_wake_backends_;
  std::vector<TcpClientConn*> tcp_resume_;  // nullptr: closed meanwhile
  // Set when process_query answers or forwards a TCP query: a query it did
  // neither for was dropped (docs/runtime.md, "A TCP query that gets no answer").
  bool tcp_answer_owed_ = false;

  // `delay`: answers held back, and the timer that sends them.
  HeldAnswers held_;
  uv_timer_t hold_timer_;
  uint64_t hold_timer_at_ = UINT64_MAX;
  uint32_t reply_delay_ms_ = 0;  // of the query being decided (UDP only)

  // Dynamic blocks: this worker's recorder in the policy's engine, inside a
  // batch from begin_batch() to the next (or to a policy swap).
  BlockRecorder* recorder_ = nullptr;
  bool tcp_listeners_closed_ = false;

  QueryView view_;  // the query being handled (query path, local answers, rings, log)
  QueryView timeout_view_;  // a timed-out query's, rebuilt for answer_stale_on_timeout()
  std::unique_ptr<QueryLogBuffer> log_;
};

}  // namespace dnspc::runtime
