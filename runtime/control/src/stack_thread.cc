#include "stack_thread.h"

#include <cstring>

namespace dnspc::runtime {

void* StackThread::trampoline(void* self) {
  static_cast<StackThread*>(self)->fn_();
  return nullptr;
}

bool StackThread::start(size_t stack_bytes, std::function<void()> fn, std::string& error) {
  join();
  fn_ = std::move(fn);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int r = pthread_attr_setstacksize(&attr, stack_bytes);
  if (r == 0) r = pthread_create(&thread_, &attr, &StackThread::trampoline, this);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    error = std::strerror(r);
    return false;
  }
  running_ = true;
  return true;
}

void StackThread::join() {
  if (!running_) return;
  pthread_join(thread_, nullptr);
  running_ = false;
}

}  // namespace dnspc::runtime
