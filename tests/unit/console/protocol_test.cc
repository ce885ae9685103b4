#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "dnspc/runtime/console_protocol.h"

using namespace dnspc::runtime::console;

namespace {

Key key_of(uint8_t fill) {
  Key k;
  k.fill(fill);
  return k;
}

struct Pair {
  SessionKeys client, server;
};

Pair shake(const Key& client_key, const Key& server_key, HelloError* error = nullptr) {
  ClientHandshake c(client_key);
  uint8_t hello[kHelloBytes], reply[kHelloBytes];
  std::memcpy(hello, c.hello().data(), kHelloBytes);
  Pair p;
  HelloError e = server_handshake(server_key, hello, reply, p.server);
  if (error) *error = e;
  if (e != HelloError::kNone) return p;
  auto keys = c.finish(reply);
  REQUIRE(keys);
  p.client = *keys;
  return p;
}

// Opens the frame at the start of `wire` and drops it from there.
bool open_next(FrameOpener& o, std::string& wire, std::string& message) {
  uint8_t length[kLengthBytes];
  std::memcpy(length, wire.data(), kLengthBytes);
  const size_t n = FrameOpener::body_length(length);
  if (n == 0 || wire.size() < kLengthBytes + n) return false;
  const bool ok =
      o.open(length, reinterpret_cast<const uint8_t*>(wire.data() + kLengthBytes), n, message);
  wire.erase(0, kLengthBytes + n);
  return ok;
}

}  // namespace

TEST_CASE("the handshake gives both sides the same keys, one per direction, fresh each time") {
  const Key k = key_of(7);
  Pair a = shake(k, k);
  CHECK(a.client.send == a.server.receive);
  CHECK(a.client.receive == a.server.send);
  CHECK(a.client.send != a.client.receive);
  Pair b = shake(k, k);
  CHECK(a.client.send != b.client.send);  // ephemeral keys: nothing repeats across connections
}

TEST_CASE("a hello under another key or with another magic is refused") {
  HelloError e;
  shake(key_of(1), key_of(2), &e);
  CHECK(e == HelloError::kBadKey);
  ClientHandshake c(key_of(1));
  uint8_t hello[kHelloBytes], reply[kHelloBytes];
  std::memcpy(hello, c.hello().data(), kHelloBytes);
  hello[0] = 'X';
  SessionKeys keys;
  CHECK(server_handshake(key_of(1), hello, reply, keys) == HelloError::kBadMagic);
}

TEST_CASE("the client refuses a server that does not prove the key") {
  ClientHandshake c(key_of(1));
  uint8_t hello[kHelloBytes], reply[kHelloBytes];
  std::memcpy(hello, c.hello().data(), kHelloBytes);
  // A server that only echoes, or one with another key.
  CHECK_FALSE(c.finish(hello));
  ClientHandshake c2(key_of(1));
  std::memcpy(hello, c2.hello().data(), kHelloBytes);
  SessionKeys keys;
  // The server checks with key 1 (so it answers), but a tampered reply fails.
  REQUIRE(server_handshake(key_of(1), hello, reply, keys) == HelloError::kNone);
  reply[20] ^= 1;
  CHECK_FALSE(c2.finish(reply));
}

TEST_CASE("frames open in order only: tampered, replayed, reordered frames fail") {
  const Key k = key_of(3);
  FrameSealer s(k);
  std::string wire;
  s.seal("one", wire);
  s.seal("two", wire);
  const std::string both = wire;
  std::string m;
  {
    FrameOpener o(k);
    CHECK(open_next(o, wire, m));
    CHECK(m == "one");
    CHECK(open_next(o, wire, m));
    CHECK(m == "two");
    std::string again = both;  // the first frame again: its counter is spent
    CHECK_FALSE(open_next(o, again, m));
  }
  {
    FrameOpener o(k);
    std::string second = both.substr(both.size() / 2);  // both frames have the same size
    CHECK_FALSE(open_next(o, second, m));
  }
  for (size_t at : {size_t{0}, size_t{3}, size_t{4}, size_t{10}, both.size() / 2 - 1}) {
    FrameOpener o(k);
    std::string tampered = both;
    tampered[at] ^= 1;
    std::string out;
    CHECK_FALSE(open_next(o, tampered, out));
  }
  FrameOpener wrong(key_of(4));
  std::string copy = both;
  CHECK_FALSE(open_next(wrong, copy, m));
}

TEST_CASE("the length is checked against the cap before anything else") {
  auto length = [](uint32_t n) {
    uint8_t b[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                    static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
    return FrameOpener::body_length(b);
  };
  CHECK(length(kMaxSealed) == kMaxSealed);
  CHECK(length(kMaxSealed + 1) == 0);
  CHECK(length(0xFFFFFFFF) == 0);
  CHECK(length(kTagBytes) == 0);  // no room for a message type
  CHECK(length(kTagBytes + 1) == kTagBytes + 1);
}

TEST_CASE("long answers are split into frames without cutting a character") {
  std::string text;
  while (text.size() < 3 * kMaxPlaintext) text += "é€x";
  std::string joined;
  size_t pieces = 0;
  split_output(text, [&](std::string m) {
    REQUIRE(m.size() <= kMaxPlaintext);
    REQUIRE(m[0] == static_cast<char>(MessageType::kOutput));
    const auto first = static_cast<uint8_t>(m[1]);
    CHECK((first & 0xC0) != 0x80);  // never starts inside a character
    joined += m.substr(1);
    ++pieces;
  });
  CHECK(joined == text);
  CHECK(pieces == 4);
}

TEST_CASE("keys: base64 of 32 bytes, a key file only its owner reads") {
  std::string error;
  const Key k = random_key();
  auto parsed = parse_key("  " + encode_key(k) + "\n", error);
  REQUIRE(parsed);
  CHECK(*parsed == k);
  CHECK_FALSE(parse_key("c2hvcnQ=", error));
  CHECK(error.find("--make-key") != std::string::npos);

  char path[] = "/tmp/dnspc-key-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string text = encode_key(k) + "\n";
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  chmod(path, 0600);
  auto loaded = load_key_file(path, error);
  REQUIRE(loaded);
  CHECK(*loaded == k);
  chmod(path, 0644);
  CHECK_FALSE(load_key_file(path, error));
  CHECK(error.find("chmod 600") != std::string::npos);
  unlink(path);
  CHECK_FALSE(load_key_file(path, error));
  unsetenv("DNSPC_CONSOLE_KEY");
  CHECK_FALSE(load_key("", error));
  CHECK(error.find("DNSPC_CONSOLE_KEY") != std::string::npos);
  setenv("DNSPC_CONSOLE_KEY", encode_key(k).c_str(), 1);
  auto from_env = load_key("/nonexistent", error);
  unsetenv("DNSPC_CONSOLE_KEY");
  REQUIRE(from_env);
  CHECK(*from_env == k);
}
