// The `log` modifier's lines: a worker formats them into this fixed buffer
// during a batch and writes them with one write(2) at the end of it, so
// logging costs no allocation and no syscall per query.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace dnspc::runtime {

class QueryLogBuffer {
 public:
  static constexpr size_t kCapacity = 64 * 1024;

  // Room for a line of at most `max_len` bytes, or nullptr when full.
  char* reserve(size_t max_len) { return len_ + max_len <= kCapacity ? buf_ + len_ : nullptr; }
  void commit(size_t len) { len_ += len; }
  bool empty() const { return len_ == 0; }
  void flush() {
    size_t off = 0;
    while (off < len_) {
      ssize_t w = ::write(STDERR_FILENO, buf_ + off, len_ - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        break;
      }
      off += static_cast<size_t>(w);
    }
    len_ = 0;
  }

 private:
  char buf_[kCapacity];
  size_t len_ = 0;
};

}  // namespace dnspc::runtime
