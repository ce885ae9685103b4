// The server's side of one console connection (console_session.h).
#include "dnspc/runtime/console_session.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace dnspc::runtime::console {

ConsoleSession::ConsoleSession(const Key& key, SessionHooks hooks)
    : key_(key), hooks_(std::move(hooks)) {}

ConsoleSession::~ConsoleSession() {
  *alive_ = false;
}

std::string ConsoleSession::take_output() {
  return std::exchange(out_, std::string());
}

void ConsoleSession::send(std::string_view message) {
  sealer_->seal(message, out_);
}

void ConsoleSession::feed(std::string_view data) {
  if (ended()) return;
  pending_.append(data);
  process();
}

// Takes requests from what is pending until one is busy or all is used.
void ConsoleSession::process() {
  if (processing_) return;
  processing_ = true;
  std::string_view data = pending_;
  while (!data.empty() && !ended() && !busy_ && out_.size() < kOutputHold) take(data);
  pending_.erase(0, pending_.size() - data.size());
  if (ended()) pending_.clear();
  processing_ = false;
}

void ConsoleSession::take(std::string_view& data) {
  if (!keys_) {
    const size_t n = std::min(data.size(), kHelloBytes - hello_have_);
    std::memcpy(hello_ + hello_have_, data.data(), n);
    hello_have_ += n;
    data.remove_prefix(n);
    // Refuse a stranger as soon as its magic is wrong, before 72 bytes.
    if (std::memcmp(hello_, kClientMagic.data(), std::min(hello_have_, kClientMagic.size())) != 0) {
      end_ = End::kBadHello;
      return;
    }
    if (hello_have_ < kHelloBytes) return;
    uint8_t reply[kHelloBytes];
    SessionKeys keys;
    const HelloError e = server_handshake(key_, hello_, reply, keys);
    if (e != HelloError::kNone) {
      end_ = e == HelloError::kBadMagic ? End::kBadHello : End::kBadKey;
      return;
    }
    out_.append(reinterpret_cast<const char*>(reply), kHelloBytes);
    sealer_.emplace(keys.send);
    opener_.emplace(keys.receive);
    keys_ = keys;
    return;
  }
  if (length_have_ < kLengthBytes) {
    const size_t n = std::min(data.size(), kLengthBytes - length_have_);
    std::memcpy(length_ + length_have_, data.data(), n);
    length_have_ += n;
    data.remove_prefix(n);
    if (length_have_ < kLengthBytes) return;
    body_want_ = FrameOpener::body_length(length_);
    if (body_want_ == 0) {
      end_ = End::kOversize;
      return;
    }
    body_.clear();
    body_.reserve(body_want_);
  }
  const size_t n = std::min(data.size(), body_want_ - body_.size());
  body_.append(data.data(), n);
  data.remove_prefix(n);
  if (body_.size() < body_want_) return;
  std::string message;
  const bool opened =
      opener_->open(length_, reinterpret_cast<const uint8_t*>(body_.data()), body_.size(), message);
  length_have_ = 0;
  body_.clear();
  body_.shrink_to_fit();
  if (!opened) {
    end_ = End::kBadFrame;
    return;
  }
  on_message(message);
}

void ConsoleSession::on_message(const std::string& message) {
  const auto type = static_cast<MessageType>(static_cast<uint8_t>(message[0]));
  if (type == MessageType::kComplete) {
    std::vector<std::string> candidates = hooks_.complete
                                              ? hooks_.complete(std::string_view(message).substr(1))
                                              : std::vector<std::string>{};
    std::string reply(1, static_cast<char>(MessageType::kCandidates));
    for (const std::string& c : candidates) {
      if (reply.size() + c.size() + 1 > kMaxPlaintext) break;  // the longest lists lose their tail
      if (reply.size() > 1) reply += '\n';
      reply += c;
    }
    send(reply);
    return;
  }
  if (type != MessageType::kRun || message.size() < 2) {
    end_ = End::kBadMessage;
    return;
  }
  const bool json = (static_cast<uint8_t>(message[1]) & kRunJson) != 0;
  busy_ = true;
  hooks_.run(std::string_view(message).substr(2), json, [this, alive = alive_](LineAnswer a) {
    if (!*alive) return;
    answer(std::move(a));
  });
}

void ConsoleSession::answer(LineAnswer a) {
  split_output(a.output, [this](std::string m) { send(m); });
  std::string done(1, static_cast<char>(MessageType::kDone));
  done += a.ok ? '\0' : '\1';
  if (!a.ok) done += std::string_view(a.error).substr(0, kMaxPlaintext - 2);
  send(done);
  busy_ = false;
  if (processing_) return;  // answered at once: process() goes on
  process();
  if (hooks_.woke) hooks_.woke();
}

}  // namespace dnspc::runtime::console
