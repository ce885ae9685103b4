// Evaluates the published policy's dynamic blocks once a second on the main
// loop (off the packet path): BlockEngine::evaluate merges what the workers
// counted, blocks and releases. When a worker is still inside a batch that
// began before the flip, evaluate() asks to be called again: 10 ms later.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>

#include "dnspc/runtime/active_policy.h"

namespace dnspc::runtime {

class BlockEvaluator {
 public:
  BlockEvaluator(uv_loop_t* loop, const std::atomic<const ActivePolicy*>* current);
  void start();
  void stop();

 private:
  void run();

  uv_timer_t timer_{};
  const std::atomic<const ActivePolicy*>* current_;
  uint64_t next_second_ns_ = 0;
};

uint64_t steady_now_ns();

}  // namespace dnspc::runtime
