// The two halves of a DNS-over-TCP stream (RFC 7766): messages framed by a
// two-byte length. FrameReader reassembles messages across reads; StreamOut
// writes them without copying when the socket takes them at once, and keeps
// what it does not take in a buffer that is reused, so a connection in a
// steady state allocates nothing.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dnspc::runtime {

class FrameReader {
 public:
  // Where the next read goes (libuv's alloc callback); grows to fit the
  // message being read, never past a 65,535-byte message and its prefix.
  uv_buf_t space();
  void received(size_t n) { used_ += n; }

  // The next whole message, or false. The span stays valid until the next
  // call to next() or space().
  bool next(uint8_t*& data, size_t& size);
  // Whether the length prefix of the message being read has arrived, and
  // the length it announces.
  bool has_prefix() const { return used_ - start_ >= 2; }
  size_t announced() const;
  size_t buffered() const { return used_ - start_; }
  // Whether what is buffered ends in the middle of a message (whole
  // messages not handled yet, as on a paused connection, do not count).
  bool ends_mid_message() const;
  size_t capacity() const { return buf_.size(); }
  void discard() { start_ = used_ = 0; }

 private:
  std::vector<uint8_t> buf_;
  size_t start_ = 0, used_ = 0;
};

class StreamOut {
 public:
  // Sends `data` with its length prefix. False when the stream failed (the
  // caller closes it). While `connected` is false (a backend connection being
  // opened) the message waits in the buffer; start() sends it.
  bool send(uv_stream_t* stream, const uint8_t* data, size_t size);
  bool start(uv_stream_t* stream);
  // Bytes accepted but not yet written by the kernel.
  size_t buffered() const { return pending_.size() + writing_.size(); }
  bool idle() const { return !write_active_ && pending_.empty(); }
  bool failed() const { return failed_; }
  bool connected = true;

  // Called when a queued write completes with nothing left to write
  // (failed = false) or when writing failed (failed = true), so the owner can
  // end or close the stream. Not called for writes cancelled by a close.
  using Notify = void (*)(void* owner, bool failed);
  void set_notify(Notify fn, void* owner) {
    notify_ = fn;
    owner_ = owner;
  }

 private:
  static void on_written(uv_write_t* req, int status);
  bool write_pending(uv_stream_t* stream);

  uv_write_t req_{};
  std::vector<uint8_t> pending_;  // waiting for the write in progress
  std::vector<uint8_t> writing_;  // handed to libuv
  bool write_active_ = false;
  bool failed_ = false;
  Notify notify_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace dnspc::runtime
