#include "held_answers.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace dnspc::runtime {

namespace {
struct Later {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return a.release_ns > b.release_ns;
  }
};
}  // namespace

bool HeldAnswers::hold(uint64_t release_ns, uint8_t listener, const SockAddr& to, socklen_t to_len,
                       const uint8_t* data, size_t len) {
  if (heap_.size() >= capacity_ || len > kMaxAnswer) return false;
  uint32_t buffer;
  if (!free_buffers_.empty()) {
    buffer = free_buffers_.back();
    free_buffers_.pop_back();
  } else {
    buffer = static_cast<uint32_t>(buffers_.size());
    buffers_.push_back(std::make_unique<uint8_t[]>(kMaxAnswer));
  }
  std::memcpy(buffers_[buffer].get(), data, len);
  Entry e{release_ns, buffer, static_cast<uint16_t>(len), listener, to_len, {}};
  std::memcpy(&e.to, &to, std::min<size_t>(to_len, sizeof e.to));
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return true;
}

HeldAnswers::Entry HeldAnswers::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  Entry e = heap_.back();
  heap_.pop_back();
  return e;
}

}  // namespace dnspc::runtime
