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
#include <thread>
#include <vector>

#include "active_policy.h"
#include "dnspc/decision_state.h"
#include "dnspc/query_view.h"
#include "id_map.h"
#include "query_log.h"
#include "random.h"
#include "registry.h"

namespace dnspc::runtime {

constexpr unsigned kBatch = 64;
constexpr size_t kQueryBufferSize = 4096;   // a larger query is dropped, counted as oversized
constexpr size_t kAnswerBufferSize = 65536;  // backend answers
constexpr size_t kLocalAnswerSize = 4096;    // answers dnspc makes
constexpr uint32_t kNil = 0xffffffffu;

union SockAddr {
  sockaddr sa;
  sockaddr_in in4;
  sockaddr_in6 in6;
};

// One query in flight toward a backend: what is needed to match its answer,
// give the client its own ID, name case and header bits back, and answer
// SERVFAIL when it times out.
struct Slot {
  uint64_t sent_ns;
  uint32_t prev, next;  // the FIFO of in-flight queries, oldest first
  uint32_t server;      // registry id
  uint16_t backend_id;  // the ID we sent
  uint8_t socket;       // index among the backend's sockets
  uint8_t listener;
  uint16_t client_id;
  uint16_t client_flags;
  uint16_t qtype, qclass;
  uint16_t edns_payload;
  uint8_t qname_length;
  uint8_t edns_present, edns_version, edns_do;
  socklen_t client_len;
  SockAddr client;
  uint8_t qname[kMaxNameLength];  // the client's case
};

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
  void init(size_t size);
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
  IdMap ids;
  uint32_t outstanding = 0;
  uint32_t latency_us = 0;
  const std::atomic<bool>* up = nullptr;
  ServerEntry* entry = nullptr;
  ServerCounters* counters = nullptr;
  // The socket this batch's queries to this backend leave from.
  uint64_t batch_epoch = 0;
  uint8_t batch_socket = 0;
  bool touched = false;
  std::unique_ptr<TxQueue> tx;
};

struct Listener {
  NetAddress address;
  int fd = -1;
  uv_poll_t poll;
  PollRef ref;
  std::unique_ptr<TxQueue> tx;
};

class Worker {
 public:
  struct Config {
    unsigned index = 0;
    Registry* registry = nullptr;
    std::atomic<const ActivePolicy*>* policy = nullptr;
    std::vector<NetAddress> listen_addresses;
    std::vector<int> listener_fds;  // taken over, closed by the worker
    unsigned sockets_per_backend = 4;
    uv_async_t* done_notify = nullptr;  // signalled on the main loop when the worker has ended
  };

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

 private:
  void run();
  void begin_batch();
  void flush();
  void handle_query(Listener& l, RxBatch& rx, unsigned i);
  void forward(Listener& l, RxBatch& rx, unsigned i, const QueryView& q, const Verdict& v, uint32_t pool,
               const char*& outcome, uint32_t& server_out);
  void answer_local(Listener& l, const SockAddr& to, socklen_t to_len, const uint8_t* data, size_t len);
  uint8_t* local_buffer();
  void handle_answer(Backend& b, uint32_t socket, RxBatch& rx, unsigned i);
  void expire(uint64_t now_ns, bool all);
  void release(uint32_t slot_index);
  void log_query(const QueryView& q, const SockAddr& from, const Verdict& v, const char* outcome, uint32_t server);
  void finish();
  void maybe_finish();
  bool usable(uint32_t id) const {
    const Backend& b = backends_[id];
    return b.up->load(std::memory_order_relaxed) && b.outstanding < policy_->max_outstanding;
  }
  friend struct WorkerLb;

  Config config_;
  Registry& registry_;
  WorkerCounters& counters_;
  uv_loop_t loop_;
  uv_timer_t tick_;
  uv_async_t command_;
  std::atomic<int> request_{0};  // 1 drain, 2 stop now
  bool draining_ = false;
  bool finishing_ = false;
  std::atomic<bool> done_{false};
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

  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<uint32_t[]> free_;
  uint32_t free_count_ = 0;
  uint32_t slot_count_ = 0;
  uint32_t fifo_head_ = kNil, fifo_tail_ = kNil;
  uint32_t in_flight_ = 0;

  QueryView view_;  // the query being handled; answer matching; SERVFAIL on timeout
  uint8_t synth_[kHeaderSize + kMaxNameLength + 4 + 11];
  std::unique_ptr<QueryLogBuffer> log_;
};

}  // namespace dnspc::runtime
