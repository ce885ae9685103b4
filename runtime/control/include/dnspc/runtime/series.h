// The live graphs' data: once a second the control thread samples the main
// figures (queries decided; answers from backends, made locally, SERVFAIL on
// timeouts; drops; answers by rcode; per server queries, answers and latency
// quantiles of that second) into a ring of the last 10 minutes.
// `dnspc ctl series [SECONDS]` reads it; the web page will poll it.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "dnspc/runtime/latency_histogram.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

class SeriesSampler {
 public:
  static constexpr size_t kSeconds = 600;

  SeriesSampler(uv_loop_t* loop, const Registry& registry);
  void start();
  void stop();  // closes the timer handle (the loop must run once more)

  std::string json(size_t seconds) const;

 private:
  struct Totals {
    uint64_t decided = 0, backend = 0, local = 0, timeout = 0, dropped = 0;
    std::array<uint64_t, 16> rcodes{};
    struct Server {
      uint64_t queries = 0, answers = 0;
      LatencySnapshot latency;
    };
    std::vector<Server> servers;  // by registry id
  };
  struct Sample {
    double time = 0;  // Unix seconds at the end of the second
    uint64_t decided = 0, backend = 0, local = 0, timeout = 0, dropped = 0;
    std::array<uint64_t, 16> rcodes{};
    struct Server {
      uint32_t id = 0;
      uint64_t queries = 0, answers = 0;
      double p50_us = 0, p99_us = 0;
    };
    std::vector<Server> servers;  // live servers only
  };

  Totals read() const;
  void tick();

  uv_timer_t timer_{};
  uv_loop_t* loop_;
  const Registry& registry_;
  Totals last_;
  std::deque<Sample> samples_;
  bool started_ = false;
};

}  // namespace dnspc::runtime
