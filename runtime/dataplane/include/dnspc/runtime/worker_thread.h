// A data-plane worker as the control plane sees it: a thread with its own
// loop, listeners, backend sockets and in-flight queries, started, told to
// drain or stop, and handed policies to prepare and adopt. Everything behind
// it (the packet path) stays private to runtime/dataplane.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/net_address.h"

namespace dnspc::runtime {

class Registry;
class TcpAdmission;
class Worker;
struct ActivePolicy;

// The language's bound on `delay`: a worker may hold an answer this long, so
// a removed listener stays open at least this long.
constexpr uint64_t kMaxDelayNs = 10'000'000'000ull;

struct WorkerConfig {
  unsigned index = 0;
  Registry* registry = nullptr;
  std::atomic<const ActivePolicy*>* policy = nullptr;
  std::vector<NetAddress> listen_addresses;
  std::vector<int> listener_fds;      // taken over, closed by the worker
  std::vector<int> tcp_listener_fds;  // listening, one per listen address; taken over
  TcpAdmission* tcp_admission = nullptr;
  unsigned sockets_per_backend = 4;
  uv_async_t* done_notify = nullptr;  // signalled on the main loop when the worker has ended
};

class WorkerThread {
 public:
  explicit WorkerThread(WorkerConfig config);
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Opens the backend sockets and sets up the loop; false with `error` set.
  bool open(std::string& error);
  void start();
  // Thread-safe. drain: stop reading queries, answer or time out what is in
  // flight, then end. stop_now: end at once.
  void drain();
  void stop_now();
  void join();
  bool done() const;

  // The socket ports toward a backend (`servers`).
  const std::vector<uint16_t>& backend_ports(uint32_t server) const;

  // Hot reload. post() is thread-safe: runs `job` on this worker's loop, in
  // order; prepare() and change_listeners() must run inside such a job.
  void post(std::function<void()> job);
  // Sockets toward the servers `next` uses that this worker has none for,
  // in-flight tables and scratch memory as large as `next` needs.
  bool prepare(const ActivePolicy& next, std::string& error);
  // UDP listener changes: `added` and `fds` (taken over) pair up; listeners
  // at `removed` addresses stop reading at once and close after the UDP
  // timeout (their answers still go out meanwhile).
  void change_listeners(const std::vector<NetAddress>& added, const std::vector<int>& fds,
                        const std::vector<NetAddress>& removed, uint64_t udp_timeout_ns);
  // The policy this worker runs, stored at its swap point; `notify` is
  // signalled each time it changes.
  const ActivePolicy* acknowledged() const;
  void set_swap_notify(uv_async_t* notify);
  // Wakes the worker so an idle one reaches its swap point now.
  void wake();

 private:
  std::unique_ptr<Worker> worker_;
};

}  // namespace dnspc::runtime
