// UDP answers held back by the `delay` modifier: copied once, kept in a
// min-heap by release time, sent by the worker's timer. Bounded: past
// `capacity` answers an answer is not held (the caller drops it and counts:
// a tarpit that overflows must not start answering its abuser faster).
// Buffers are allocated when first needed and reused, so holding allocates
// only while the number held grows past its previous peak.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dnspc/runtime/sock_addr.h"

namespace dnspc::runtime {

class HeldAnswers {
 public:
  static constexpr size_t kMaxAnswer = 4096;  // larger answers are not held

  explicit HeldAnswers(unsigned capacity = 0) : capacity_(capacity) {}
  void set_capacity(unsigned capacity) { capacity_ = capacity; }

  // False when full or the answer is too large.
  bool hold(uint64_t release_ns, uint8_t listener, const SockAddr& to, socklen_t to_len, const uint8_t* data,
            size_t len);
  // The earliest release time, or UINT64_MAX when nothing is held.
  uint64_t next_release() const { return heap_.empty() ? UINT64_MAX : heap_.front().release_ns; }
  size_t size() const { return heap_.size(); }

  // Calls send(listener, to, to_len, data, len) for every answer due at
  // `now_ns`, earliest first; the data stays valid until the next hold().
  template <class Send>
  void release_due(uint64_t now_ns, Send&& send) {
    while (!heap_.empty() && heap_.front().release_ns <= now_ns) {
      Entry e = pop();
      send(e.listener, e.to, e.to_len, buffers_[e.buffer].get(), e.len);
      free_buffers_.push_back(e.buffer);
    }
  }

 private:
  struct Entry {
    uint64_t release_ns;
    uint32_t buffer;
    uint16_t len;
    uint8_t listener;
    socklen_t to_len;
    SockAddr to;
  };
  Entry pop();

  unsigned capacity_;
  std::vector<Entry> heap_;
  std::vector<std::unique_ptr<uint8_t[]>> buffers_;
  std::vector<uint32_t> free_buffers_;
};

}  // namespace dnspc::runtime
