#include "block_evaluator.h"

#include <ctime>

namespace dnspc::runtime {

uint64_t steady_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

BlockEvaluator::BlockEvaluator(uv_loop_t* loop, const std::atomic<const ActivePolicy*>* current)
    : current_(current) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
}

void BlockEvaluator::start() {
  next_second_ns_ = steady_now_ns() + 1'000'000'000ull;
  uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<BlockEvaluator*>(t->data)->run(); }, 1000, 0);
}

void BlockEvaluator::stop() { uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr); }

void BlockEvaluator::run() {
  const ActivePolicy* p = current_->load(std::memory_order_acquire);
  const uint64_t now = steady_now_ns();
  uint64_t wait_ms = 10;  // a worker is mid-batch: try again shortly
  if (!p->blocks || p->blocks->evaluate(now)) {
    // The next whole second, without drifting when an evaluation ran late.
    while (next_second_ns_ <= now) next_second_ns_ += 1'000'000'000ull;
    wait_ms = (next_second_ns_ - now + 999'999) / 1'000'000;
  }
  uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<BlockEvaluator*>(t->data)->run(); }, wait_ms, 0);
}

}  // namespace dnspc::runtime
