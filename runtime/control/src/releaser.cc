#include "dnspc/runtime/releaser.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "stack_thread.h"

namespace dnspc::runtime {

struct Releaser::State {
  std::mutex mutex;
  std::condition_variable wake, idle;
  std::vector<std::shared_ptr<const void>> pending;
  bool busy = false, stopping = false, started = false;
  unsigned long long freed = 0;
  StackThread thread;

  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stopping || !pending.empty(); });
      if (pending.empty()) return;  // stopping, nothing left
      std::vector<std::shared_ptr<const void>> batch;
      batch.swap(pending);
      busy = true;
      lock.unlock();
      const size_t n = batch.size();
      batch.clear();  // the freeing itself, outside the lock
      lock.lock();
      busy = false;
      freed += n;
      if (pending.empty()) idle.notify_all();
    }
  }
};

// Destructors recurse as deep as a policy's conditions nest (bounded by the
// parser); a stack of our own size, not the operator's ulimit.
constexpr size_t kReleaseStackBytes = size_t{8} << 20;

Releaser::Releaser() : state_(std::make_unique<State>()) {}

Releaser::~Releaser() { stop(); }

void Releaser::release(std::shared_ptr<const void> garbage) {
  if (!garbage) return;
  State& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.stopping) {
      if (!s.started) {
        std::string error;
        s.started = s.thread.start(kReleaseStackBytes, [&s] { s.run(); }, error);
      }
      if (s.started) {
        s.pending.push_back(std::move(garbage));
        s.wake.notify_one();
        return;
      }
    }
  }
  garbage.reset();
  std::lock_guard<std::mutex> lock(s.mutex);
  ++s.freed;
}

void Releaser::wait_idle() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  s.idle.wait(lock, [&] { return s.pending.empty() && !s.busy; });
}

void Releaser::stop() {
  State& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.stopping = true;
    s.wake.notify_one();
  }
  s.thread.join();
}

unsigned long long Releaser::freed() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->freed;
}

}  // namespace dnspc::runtime
