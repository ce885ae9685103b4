#include "dnspc/runtime/stream_io.h"

#include <algorithm>
#include <cstring>

namespace dnspc::runtime {

namespace {
constexpr size_t kMinRead = 4096;
constexpr size_t kShrinkAbove = 16384;
}  // namespace

uv_buf_t FrameReader::space() {
  if (start_ == used_) {
    start_ = used_ = 0;
    // A large message has been read: give its room back while idle.
    if (buf_.size() > kShrinkAbove) std::vector<uint8_t>(kMinRead).swap(buf_);
  }
  // At most a whole message with its prefix: 65,537 bytes.
  const size_t want = has_prefix() ? std::max(kMinRead, announced() + 2) : kMinRead;
  if (start_ > 0 && (buf_.size() - used_ < kMinRead || buf_.size() < start_ + want)) {
    // Move the partial message to the front rather than grow: the buffer
    // never holds more than one message (65,537 bytes) plus one read.
    std::memmove(buf_.data(), buf_.data() + start_, used_ - start_);
    used_ -= start_;
    start_ = 0;
  }
  if (buf_.size() < start_ + want) buf_.resize(start_ + want);
  if (buf_.size() == used_) buf_.resize(used_ + kMinRead);
  return uv_buf_init(reinterpret_cast<char*>(buf_.data() + used_), static_cast<unsigned>(buf_.size() - used_));
}

size_t FrameReader::announced() const {
  if (used_ - start_ < 2) return 0;
  return static_cast<size_t>(buf_[start_]) << 8 | buf_[start_ + 1];
}

bool FrameReader::ends_mid_message() const {
  size_t at = start_;
  while (used_ - at >= 2) {
    const size_t n = static_cast<size_t>(buf_[at]) << 8 | buf_[at + 1];
    if (used_ - at < 2 + n) return true;
    at += 2 + n;
  }
  return at != used_;
}

bool FrameReader::next(uint8_t*& data, size_t& size) {
  if (used_ - start_ < 2) return false;
  size_t n = announced();
  if (used_ - start_ < 2 + n) return false;
  data = buf_.data() + start_ + 2;
  size = n;
  start_ += 2 + n;
  return true;
}

bool StreamOut::send(uv_stream_t* stream, const uint8_t* data, size_t size) {
  if (failed_) return false;
  uint8_t prefix[2] = {static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)};
  size_t written = 0;
  if (connected && idle()) {
    // The common case: the kernel takes the whole message now, no copy.
    uv_buf_t bufs[2] = {uv_buf_init(reinterpret_cast<char*>(prefix), 2),
                        uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data)), static_cast<unsigned>(size))};
    int r = uv_try_write(stream, bufs, 2);
    if (r >= 0) {
      written = static_cast<size_t>(r);
    } else if (r != UV_EAGAIN) {
      failed_ = true;
      return false;
    }
    if (written == size + 2) return true;
  }
  // Keep what was not written, in order.
  for (size_t i = written; i < 2; ++i) pending_.push_back(prefix[i]);
  size_t from = written > 2 ? written - 2 : 0;
  pending_.insert(pending_.end(), data + from, data + size);
  if (connected && !write_active_) return write_pending(stream);
  return true;
}

bool StreamOut::start(uv_stream_t* stream) {
  connected = true;
  if (!write_active_ && !pending_.empty()) return write_pending(stream);
  return true;
}

bool StreamOut::write_pending(uv_stream_t* stream) {
  writing_.swap(pending_);
  pending_.clear();
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(writing_.data()), static_cast<unsigned>(writing_.size()));
  req_.data = this;
  if (uv_write(&req_, stream, &buf, 1, on_written) != 0) {
    failed_ = true;
    return false;
  }
  write_active_ = true;
  return true;
}

void StreamOut::on_written(uv_write_t* req, int status) {
  auto* self = static_cast<StreamOut*>(req->data);
  self->write_active_ = false;
  self->writing_.clear();
  if (status == UV_ECANCELED) return;  // the handle is closing: its owner knows
  if (status < 0) {
    // Nothing more can be written: the owner closes the stream (its read
    // side may never see the failure, for instance when it stopped reading).
    self->failed_ = true;
    self->pending_.clear();
    if (self->notify_) self->notify_(self->owner_, true);
    return;
  }
  if (!self->pending_.empty()) {
    if (!self->write_pending(req->handle) && self->notify_) self->notify_(self->owner_, true);
    return;
  }
  if (self->notify_) self->notify_(self->owner_, false);  // everything written
}

}  // namespace dnspc::runtime
