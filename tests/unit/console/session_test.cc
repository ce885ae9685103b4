#include <catch2/catch.hpp>
#include <cstring>

#include "dnspc/runtime/console_session.h"

using namespace dnspc::runtime::console;

namespace {

const Key kKey = [] {
  Key k;
  k.fill(9);
  return k;
}();

// A client from the protocol's parts, and a session whose lines answer
// with their own text (or later, when asked to).
struct Fixture {
  std::vector<std::string> lines;
  std::vector<std::function<void(LineAnswer)>> later;
  bool answer_later = false;
  int woke = 0;
  ConsoleSession session;
  ClientHandshake client{kKey};
  std::optional<FrameSealer> sealer;
  std::optional<FrameOpener> opener;
  std::string from_server;

  Fixture()
      : session(kKey,
                SessionHooks{
                    [this](std::string_view code, bool json, std::function<void(LineAnswer)> done) {
                      lines.emplace_back(code);
                      if (answer_later) return later.push_back(std::move(done));
                      done({code != "fail", std::string(json ? "json:" : "") + std::string(code),
                            "it failed"});
                    },
                    [](std::string_view before) {
                      return std::vector<std::string>{std::string(before) + "A",
                                                      std::string(before) + "B"};
                    },
                    [this] { ++woke; }}) {}

  void handshake() {
    session.feed({reinterpret_cast<const char*>(client.hello().data()), kHelloBytes});
    std::string out = session.take_output();
    REQUIRE(out.size() == kHelloBytes);
    uint8_t reply[kHelloBytes];
    std::memcpy(reply, out.data(), kHelloBytes);
    auto keys = client.finish(reply);
    REQUIRE(keys);
    sealer.emplace(keys->send);
    opener.emplace(keys->receive);
    REQUIRE(session.authenticated());
  }

  std::string frame(std::string_view message) {
    std::string wire;
    sealer->seal(message, wire);
    return wire;
  }
  std::string run_frame(std::string_view code, bool json = false) {
    std::string m(1, static_cast<char>(MessageType::kRun));
    m += static_cast<char>(json ? kRunJson : 0);
    m += code;
    return frame(m);
  }

  // Every message the server sent so far.
  std::vector<std::string> messages() {
    from_server += session.take_output();
    std::vector<std::string> out;
    while (from_server.size() >= kLengthBytes) {
      uint8_t length[kLengthBytes];
      std::memcpy(length, from_server.data(), kLengthBytes);
      const size_t n = FrameOpener::body_length(length);
      REQUIRE(n > 0);
      if (from_server.size() < kLengthBytes + n) break;
      std::string m;
      REQUIRE(opener->open(
          length, reinterpret_cast<const uint8_t*>(from_server.data() + kLengthBytes), n, m));
      from_server.erase(0, kLengthBytes + n);
      out.push_back(m);
    }
    return out;
  }
};

std::string done_ok() {
  return std::string("\x82\x00", 2);
}

}  // namespace

TEST_CASE("a session: hello, then lines answered with output and a done message") {
  Fixture f;
  f.handshake();
  f.session.feed(f.run_frame("showServers()"));
  auto m = f.messages();
  REQUIRE(m.size() == 2);
  CHECK(m[0] == "\x81showServers()");
  CHECK(m[1] == done_ok());
  f.session.feed(f.run_frame("x", true));
  m = f.messages();
  CHECK(m[0] == "\x81json:x");
  f.session.feed(f.run_frame("fail"));
  m = f.messages();
  CHECK(m.back() == std::string("\x82\x01it failed", 11));
}

TEST_CASE("a session: bytes may come one at a time, and requests pipelined") {
  Fixture f;
  f.handshake();
  std::string wire = f.run_frame("a");  // sealed in order: the counter counts
  wire += f.run_frame("b");
  for (char c : wire) f.session.feed(std::string_view(&c, 1));
  CHECK(f.lines == std::vector<std::string>{"a", "b"});
  CHECK(f.messages().size() == 4);
}

TEST_CASE("a session: a line answering later holds the next request until it is done") {
  Fixture f;
  f.handshake();
  f.answer_later = true;
  std::string wire = f.run_frame("reload()");
  wire += f.run_frame("next");
  f.session.feed(wire);
  CHECK(f.session.busy());
  CHECK_FALSE(f.session.wants_input());
  CHECK(f.lines == std::vector<std::string>{"reload()"});
  f.answer_later = false;
  f.later.at(0)({true, "reloaded\n", ""});
  CHECK(f.woke == 1);
  CHECK(f.lines == std::vector<std::string>{"reload()", "next"});
  auto m = f.messages();
  REQUIRE(m.size() == 4);
  CHECK(m[0] == "\x81reloaded\n");
  CHECK(m[2] == "\x81next");
}

TEST_CASE("a session: completion answers candidates") {
  Fixture f;
  f.handshake();
  f.session.feed(f.frame("\x02show"));
  auto m = f.messages();
  REQUIRE(m.size() == 1);
  CHECK(m[0] == "\x83showA\nshowB");
}

TEST_CASE("a session: a stranger is refused at its first wrong byte, a wrong key at its hello") {
  Fixture f;
  f.session.feed("GET");
  CHECK(f.session.end() == ConsoleSession::End::kBadHello);
  CHECK(f.session.take_output().empty());

  Fixture g;
  ClientHandshake other([] {
    Key k;
    k.fill(1);
    return k;
  }());
  g.session.feed({reinterpret_cast<const char*>(other.hello().data()), kHelloBytes});
  CHECK(g.session.end() == ConsoleSession::End::kBadKey);
  CHECK(g.session.take_output().empty());
  CHECK(g.lines.empty());
}

TEST_CASE("a session: an oversize length ends it before a body is read, bad frames end it") {
  Fixture f;
  f.handshake();
  f.session.feed(std::string("\xff\xff\xff\xff", 4));
  CHECK(f.session.end() == ConsoleSession::End::kOversize);

  Fixture g;
  g.handshake();
  std::string wire = g.run_frame("a");
  g.session.feed(wire);
  g.session.feed(wire);  // replayed
  CHECK(g.session.end() == ConsoleSession::End::kBadFrame);
  CHECK(g.lines.size() == 1);

  Fixture h;
  h.handshake();
  h.session.feed(h.frame("\x07what"));
  CHECK(h.session.end() == ConsoleSession::End::kBadMessage);
}

TEST_CASE("a session: an answer after the session is gone finds nobody") {
  std::function<void(LineAnswer)> kept;
  {
    Fixture f;
    f.handshake();
    f.answer_later = true;
    f.session.feed(f.run_frame("reload()"));
    kept = f.later.at(0);
  }
  kept({true, "late", ""});  // must not touch the freed session
  SUCCEED();
}

TEST_CASE("a session: answers piling up past the hold stop taking requests until they are taken") {
  Fixture f;
  f.handshake();
  const std::string code(60000, 'x');
  std::string wire;
  for (int i = 0; i < 30; ++i) wire += f.run_frame(code);
  f.session.feed(wire);
  CHECK(f.lines.size() < 30);
  CHECK(f.session.holding());
  CHECK_FALSE(f.session.wants_input());
  size_t messages = 0;
  for (int round = 0; round < 10 && f.session.holding(); ++round) {
    messages += f.messages().size();
    f.session.resume();
  }
  messages += f.messages().size();
  CHECK(f.lines.size() == 30);
  CHECK(messages == 60);
  CHECK(f.session.wants_input());
}
