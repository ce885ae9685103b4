// A joinable thread with a stack of a size we choose. std::thread takes
// whatever RLIMIT_STACK says; the reload compile recurses as deep as a
// policy nests (bounded by the compiler, parse.h kMaxConditionNesting), and
// on a running instance it must fit whatever the operator's ulimit is.
#pragma once

#include <pthread.h>

#include <functional>
#include <string>

namespace dnspc::runtime {

class StackThread {
 public:
  StackThread() = default;
  StackThread(const StackThread&) = delete;
  StackThread& operator=(const StackThread&) = delete;
  ~StackThread() { join(); }

  // False (with `error`) when the thread could not start; `fn` did not run.
  bool start(size_t stack_bytes, std::function<void()> fn, std::string& error);
  void join();
  bool joinable() const { return running_; }

 private:
  static void* trampoline(void* self);
  pthread_t thread_{};
  bool running_ = false;
  std::function<void()> fn_;
};

}  // namespace dnspc::runtime
