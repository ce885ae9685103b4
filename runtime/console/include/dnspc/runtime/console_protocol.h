// The console's wire protocol (docs/console.md), shared by the server in
// `dnspc run` and the client `dnspc console`: the key, the handshake and the
// sealed frames. No sockets here: bytes in, bytes out, so the unit tests and
// the fuzz target drive it directly.
//
// In short: a fixed-size hello each way carrying a fresh crypto_kx key and a
// MAC keyed by the shared key; session keys per direction from the key
// exchange, the shared key and the transcript; then frames of a 4-byte
// length (capped, checked before anything is allocated) and an
// XChaCha20-Poly1305 body under a counter nonce.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dnspc::runtime::console {

inline constexpr size_t kKeyBytes = 32;
using Key = std::array<uint8_t, kKeyBytes>;

inline constexpr size_t kHelloBytes = 72;  // magic (8) | ephemeral public key (32) | MAC (32)
inline constexpr std::string_view kClientMagic = "DNSPC-C1";
inline constexpr std::string_view kServerMagic = "DNSPC-S1";
inline constexpr size_t kLengthBytes = 4;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kMaxPlaintext = 65536;                   // one frame's message
inline constexpr size_t kMaxSealed = kMaxPlaintext + kTagBytes;  // the length field's cap

// The first byte of a frame's message.
enum class MessageType : uint8_t {
  kRun = 0x01,         // client: flags (1 byte, bit 0: JSON) | Lua code
  kComplete = 0x02,    // client: the line up to the cursor
  kOutput = 0x81,      // server: a piece of the answer (any number of them)
  kDone = 0x82,        // server: status (0 ok, 1 error) | the error's message
  kCandidates = 0x83,  // server: completion candidates separated by '\n'
};
inline constexpr uint8_t kRunJson = 0x01;

// Base64 of 32 bytes (surrounding whitespace ignored); nullopt with `error`
// saying what is wrong otherwise.
std::optional<Key> parse_key(std::string_view base64, std::string& error);
std::string encode_key(const Key& key);
Key random_key();
// The key from DNSPC_CONSOLE_KEY if set, else from `file` (refused when
// others may read it). nullopt with `error` naming the source and the fix.
std::optional<Key> load_key(const std::string& file, std::string& error);
// The key in `file` only (the same checks).
std::optional<Key> load_key_file(const std::string& file, std::string& error);

// Session keys for one direction each, after a successful handshake.
struct SessionKeys {
  Key send{}, receive{};
};

// The client's side of the handshake.
class ClientHandshake {
 public:
  explicit ClientHandshake(const Key& key);
  ~ClientHandshake();
  const std::array<uint8_t, kHelloBytes>& hello() const { return hello_; }
  // The server's hello: nullopt when its MAC is wrong (a server without our
  // key, or tampering).
  std::optional<SessionKeys> finish(const uint8_t (&server_hello)[kHelloBytes]);

 private:
  Key key_;
  std::array<uint8_t, kHelloBytes> hello_{};
  uint8_t secret_[32]{};
};

enum class HelloError { kNone, kBadMagic, kBadKey };

// The server's side, in one step: checks the client's hello, then writes its
// own hello and the session keys. Nothing is written on an error.
HelloError server_handshake(const Key& key, const uint8_t (&client_hello)[kHelloBytes],
                            uint8_t (&server_hello)[kHelloBytes], SessionKeys& keys);

// Seals messages under one direction's key, counting the nonce up.
class FrameSealer {
 public:
  explicit FrameSealer(const Key& key) : key_(key) {}
  // Appends the frame (length | sealed body) to `out`; `message` must hold
  // 1 to kMaxPlaintext bytes.
  void seal(std::string_view message, std::string& out);
  uint64_t count() const { return counter_; }

 private:
  Key key_;
  uint64_t counter_ = 0;
};

// Opens the other direction's frames in order.
class FrameOpener {
 public:
  explicit FrameOpener(const Key& key) : key_(key) {}
  // The body length a frame's 4 length bytes announce; 0 when past the cap
  // or too short to hold a tag and a message.
  static size_t body_length(const uint8_t (&length)[kLengthBytes]);
  // Opens the body of the next frame; false when it is not the next frame
  // sealed under this key (tampered, replayed, reordered or dropped).
  bool open(const uint8_t (&length)[kLengthBytes], const uint8_t* body, size_t size,
            std::string& message);

 private:
  Key key_;
  uint64_t counter_ = 0;
};

// Splits an answer into kOutput messages of at most kMaxPlaintext bytes
// each, never cutting a UTF-8 sequence; calls `emit` per message.
template <typename Emit>
void split_output(std::string_view text, Emit&& emit) {
  constexpr size_t kPiece = kMaxPlaintext - 1;
  while (!text.empty()) {
    size_t n = text.size() <= kPiece ? text.size() : kPiece;
    // Back off continuation bytes so a multi-byte character stays whole.
    while (n < text.size() && n > 0 && (static_cast<uint8_t>(text[n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = text.size() < kPiece ? text.size() : kPiece;
    std::string m(1, static_cast<char>(MessageType::kOutput));
    m.append(text.substr(0, n));
    emit(std::move(m));
    text.remove_prefix(n);
  }
}

}  // namespace dnspc::runtime::console
