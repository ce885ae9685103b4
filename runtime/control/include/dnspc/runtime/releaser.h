// Frees what a reload leaves behind (the policy it replaced, a rejected
// image) on a thread of its own. At 100k rules the old policy is hundreds of
// thousands of small objects plus its native code (removed through its JIT
// resource tracker): about 100 ms of freeing, which on the main loop held
// health checks, the dynamic-block evaluator and the control socket.
#pragma once

#include <memory>

namespace dnspc::runtime {

class Releaser {
 public:
  Releaser();
  ~Releaser();  // frees what is still pending, then ends the thread
  Releaser(const Releaser&) = delete;
  Releaser& operator=(const Releaser&) = delete;

  // Drops `garbage` on the release thread, soon. When that thread cannot
  // start, it is dropped here and now (as before there was one).
  void release(std::shared_ptr<const void> garbage);
  // Returns once everything released so far is freed. The reload thread
  // calls it before it compiles: one JIT serves every policy, and the old
  // policy's code is then never removed while the next one's is added.
  void wait_idle();
  // Frees what is pending and ends the thread; release() afterwards frees at once.
  void stop();
  // How many releases have been freed (tests).
  unsigned long long freed() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dnspc::runtime
