// Active health checks, on the main thread's loop. Every server in `auto`
// mode gets a probe (its check name and type, RD set) every interval from its
// own socket with a fresh random ID; an answer from the server's address and
// port that matches the probe (answer_matches) and whose rcode is in the
// healthy set is a success; anything else, or no answer within the timeout,
// is a failure. `down_after` consecutive failures mark it down,
// `up_after` consecutive successes mark it up again; workers read the state
// (one atomic per server) at every selection.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/query_view.h"
#include "dnspc/runtime/random.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

class HealthChecker {
 public:
  HealthChecker(uv_loop_t* loop, Registry& registry);
  ~HealthChecker();
  // Starts the probes; false with `error` when a probe socket cannot be opened.
  bool start(std::string& error);
  // Closes every handle (asynchronously, on the loop).
  void stop();
  // After a reload updated the registry: probes for the servers that are
  // live and in `auto` mode and have none (or whose check changed); the
  // probes of the others stop. Kept probes keep their counts and timing.
  bool sync(std::string& error);

  struct Probe {
    HealthChecker* owner = nullptr;
    uint32_t server = 0;
    uv_udp_t socket;
    uv_timer_t interval;
    uv_timer_t timeout;
    uint8_t query[512];
    size_t query_size = 0;
    QueryView view;
    uint16_t id = 0;
    bool outstanding = false;
    uint64_t sent_ns = 0;
    HealthCheckSpec check;  // what the probe was built from
    int open_handles = 3;
  };

  void on_interval(Probe& p);
  void on_timeout(Probe& p);
  void on_answer(Probe& p, const uint8_t* data, size_t size, const struct sockaddr* from);

 private:
  void record(Probe& p, bool success, const std::string& why);
  bool add_probe(uint32_t server, std::string& error);
  void close_probe(std::unique_ptr<Probe> p);

  uv_loop_t* loop_;
  Registry& registry_;
  BufferedRandom random_;
  std::vector<std::unique_ptr<Probe>> probes_;
  bool stopped_ = false;
};

}  // namespace dnspc::runtime
