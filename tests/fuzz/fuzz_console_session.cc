// libFuzzer target: the console server's protocol handling (ConsoleSession
// over the real handshake and frames), before and after authentication.
// The first byte picks the mode:
//   even: the bytes are all a stranger sends (hello, garbage, anything);
//   odd:  a real client shakes hands with the right key first, then the
//         rest is cut into pieces, each sent either sealed as the next
//         frame (so the message handling sees any message type and body) or
//         raw (so the framing sees any length, replay or tampering).
// Lines answer at once or later, with output up to several frames long.
// Asserts that nothing crashes, nothing is answered before a good hello, an
// ended session says nothing more, and every frame the server sends opens
// in order with a known message type.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "dnspc/runtime/console_session.h"

namespace {

using namespace dnspc::runtime::console;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const Key kKey = [] {
  Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7 + 1);
  return k;
}();

// Opens and checks every frame the server has sent so far.
void drain(std::string& wire, FrameOpener& opener) {
  while (wire.size() >= kLengthBytes) {
    uint8_t length[kLengthBytes];
    std::memcpy(length, wire.data(), kLengthBytes);
    const size_t n = FrameOpener::body_length(length);
    check(n > 0);
    if (wire.size() < kLengthBytes + n) return;
    std::string m;
    check(opener.open(length, reinterpret_cast<const uint8_t*>(wire.data() + kLengthBytes), n, m));
    const auto type = static_cast<MessageType>(static_cast<uint8_t>(m[0]));
    check(type == MessageType::kOutput || type == MessageType::kDone ||
          type == MessageType::kCandidates);
    wire.erase(0, kLengthBytes + n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::function<void(LineAnswer)>> later;
  SessionHooks hooks;
  hooks.run = [&](std::string_view code, bool, std::function<void(LineAnswer)> done) {
    // The code's first byte says how: later, a long output, an error.
    const uint8_t how = code.empty() ? 0 : static_cast<uint8_t>(code[0]);
    if (how & 1) return later.push_back(std::move(done));
    std::string out((how & 2) ? 70000 + code.size() : code.size(), 'o');
    done({(how & 4) == 0, out, std::string(code)});
  };
  hooks.complete = [](std::string_view before) {
    std::vector<std::string> c;
    for (size_t i = 0; i < before.size() % 7; ++i) c.emplace_back(before.substr(i));
    return c;
  };
  hooks.woke = [] {};
  ConsoleSession session(kKey, hooks);

  if ((mode & 1) == 0) {
    // A stranger: any bytes, in pieces.
    size_t at = 0, piece = 1 + mode % 13;
    while (at < rest.size() && !session.ended()) {
      session.feed(rest.substr(at, piece));
      at += piece;
      if (!session.authenticated()) check(session.take_output().empty() || at >= kHelloBytes);
    }
    return 0;
  }

  ClientHandshake client(kKey);
  session.feed({reinterpret_cast<const char*>(client.hello().data()), kHelloBytes});
  std::string wire = session.take_output();
  check(wire.size() == kHelloBytes);
  uint8_t reply[kHelloBytes];
  std::memcpy(reply, wire.data(), kHelloBytes);
  auto keys = client.finish(reply);
  check(keys.has_value());
  FrameSealer sealer(keys->send);
  FrameOpener opener(keys->receive);
  wire.clear();

  // Pieces: a length byte, a kind byte, then that many bytes.
  while (rest.size() >= 2 && !session.ended()) {
    const size_t n = static_cast<uint8_t>(rest[0]);
    const uint8_t kind = static_cast<uint8_t>(rest[1]);
    rest.remove_prefix(2);
    const std::string_view piece = rest.substr(0, n);
    rest.remove_prefix(piece.size());
    if (kind < 200 && !piece.empty()) {
      std::string frame;
      sealer.seal(piece, frame);
      session.feed(frame);
    } else if (kind < 230) {
      session.feed(piece);  // raw: any framing
    } else if (!later.empty()) {
      auto done = std::move(later.back());
      later.pop_back();
      done({kind % 2 == 0, std::string(piece), "late"});
    }
    const bool ended = session.ended();
    wire += session.take_output();
    if (!ended) drain(wire, opener);
  }
  // Answers after the end (or after the session is gone) reach nobody.
  for (auto& done : later) done({true, "after", ""});
  return 0;
}
