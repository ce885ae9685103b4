// One console connection on the server's side, without a socket: bytes from
// the client in, bytes to write out (docs/console.md). First the fixed-size
// hello (read into a fixed buffer: nothing is allocated for a client that
// has not proven the key), then frames: the 4 length bytes are checked
// against the cap before the body's buffer exists. Any frame that does not
// open ends the connection. One request at a time: while a line runs (or
// waits for a reload) no further frame is taken.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/runtime/console_protocol.h"

namespace dnspc::runtime::console {

struct LineAnswer {
  bool ok = true;
  std::string output;
  std::string error;
};

struct SessionHooks {
  // Runs one line; `done` once, at once or later.
  std::function<void(std::string_view code, bool json, std::function<void(LineAnswer)> done)> run;
  // The candidates for the word before the cursor.
  std::function<std::vector<std::string>(std::string_view before_cursor)> complete;
  // A line that answered later: the server writes and reads again.
  std::function<void()> woke;
};

class ConsoleSession {
 public:
  enum class End {
    kNone,
    kBadHello,  // not our magic: not a console client
    kBadKey,    // our magic, a MAC under another key
    kOversize,  // a length over the cap (or under the tag's)
    kBadFrame,  // a body that did not open
    kBadMessage,
  };

  ConsoleSession(const Key& key, SessionHooks hooks);
  ~ConsoleSession();

  // Takes what the client sent; bytes past a request that is still running,
  // or past answers adding up to kOutputHold not yet taken, are kept (at
  // most what one read brings) and taken by resume().
  void feed(std::string_view data);
  std::string take_output();
  void resume() { process(); }
  bool holding() const { return !pending_.empty(); }
  static constexpr size_t kOutputHold = size_t{1} << 20;

  bool authenticated() const { return keys_.has_value(); }
  bool busy() const { return busy_; }
  bool ended() const { return end_ != End::kNone; }
  End end() const { return end_; }
  bool wants_input() const { return !ended() && !busy_ && pending_.empty(); }

 private:
  void process();
  void take(std::string_view& data);
  void on_message(const std::string& message);
  void send(std::string_view message);
  void answer(LineAnswer a);

  Key key_;
  SessionHooks hooks_;
  std::optional<SessionKeys> keys_;
  std::optional<FrameSealer> sealer_;
  std::optional<FrameOpener> opener_;
  uint8_t hello_[kHelloBytes]{};
  size_t hello_have_ = 0;
  uint8_t length_[kLengthBytes]{};
  size_t length_have_ = 0;
  std::string body_;  // sized once the length passed the cap
  size_t body_want_ = 0;
  std::string pending_;  // bytes that came while busy
  std::string out_;
  End end_ = End::kNone;
  bool busy_ = false;
  bool processing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dnspc::runtime::console
