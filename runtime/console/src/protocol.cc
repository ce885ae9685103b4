// The handshake and the frames of docs/console.md, with libsodium.
#include <sodium.h>

#include <cstring>

#include "dnspc/runtime/console_protocol.h"

namespace dnspc::runtime::console {

namespace {

// Every function here needs sodium_init once; it is idempotent and cheap after.
void init_sodium() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
}

// BLAKE2b-256 keyed with `key` over the concatenation of `parts`.
template <size_t N>
void keyed_hash(uint8_t (&out)[32], const Key& key, const std::string_view (&parts)[N]) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.data(), key.size(), 32);
  for (std::string_view p : parts) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(p.data()), p.size());
  }
  crypto_generichash_final(&state, out, 32);
}

std::string_view bytes(const uint8_t* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// The keys of both directions: each from its crypto_kx key, the shared key
// and the hash of both hellos, so that neither a stolen shared key (no
// ephemeral secret) nor a broken key exchange alone (no shared key) gives them.
void derive(const Key& key, const uint8_t (&client_hello)[kHelloBytes],
            const uint8_t (&server_hello)[kHelloBytes], const uint8_t* c2s, const uint8_t* s2c,
            Key& client_to_server, Key& server_to_client) {
  uint8_t transcript[32];
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  crypto_generichash_update(&state, client_hello, kHelloBytes);
  crypto_generichash_update(&state, server_hello, kHelloBytes);
  crypto_generichash_final(&state, transcript, 32);
  uint8_t out[32];
  keyed_hash(out, key,
             {std::string_view("dnspc console c2s"), bytes(c2s, 32), bytes(transcript, 32)});
  std::memcpy(client_to_server.data(), out, 32);
  keyed_hash(out, key,
             {std::string_view("dnspc console s2c"), bytes(s2c, 32), bytes(transcript, 32)});
  std::memcpy(server_to_client.data(), out, 32);
  sodium_memzero(out, sizeof out);
}

void nonce_of(uint64_t counter, uint8_t (&nonce)[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES]) {
  std::memset(nonce, 0, sizeof nonce);
  for (int i = 7; i >= 0; --i) {
    nonce[i] = static_cast<uint8_t>(counter);
    counter >>= 8;
  }
}

}  // namespace

std::optional<Key> parse_key(std::string_view text, std::string& error) {
  init_sodium();
  while (!text.empty() && std::strchr(" \t\r\n", text.front())) text.remove_prefix(1);
  while (!text.empty() && std::strchr(" \t\r\n", text.back())) text.remove_suffix(1);
  Key key;
  size_t length = 0;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length != kKeyBytes) {
    error =
        "the console key must be 32 bytes in base64 (44 characters); `dnspc console --make-key` "
        "prints one";
    return std::nullopt;
  }
  return key;
}

std::string encode_key(const Key& key) {
  init_sodium();
  char out[sodium_base64_ENCODED_LEN(kKeyBytes, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

Key random_key() {
  init_sodium();
  Key key;
  randombytes_buf(key.data(), key.size());
  return key;
}

ClientHandshake::ClientHandshake(const Key& key) : key_(key) {
  init_sodium();
  uint8_t pk[crypto_kx_PUBLICKEYBYTES];
  crypto_kx_keypair(pk, secret_);
  std::memcpy(hello_.data(), kClientMagic.data(), 8);
  std::memcpy(hello_.data() + 8, pk, 32);
  uint8_t mac[32];
  keyed_hash(mac, key_, {bytes(hello_.data(), 40)});
  std::memcpy(hello_.data() + 40, mac, 32);
}

ClientHandshake::~ClientHandshake() {
  sodium_memzero(secret_, sizeof secret_);
}

std::optional<SessionKeys> ClientHandshake::finish(const uint8_t (&server_hello)[kHelloBytes]) {
  if (std::memcmp(server_hello, kServerMagic.data(), 8) != 0) return std::nullopt;
  uint8_t mac[32];
  keyed_hash(mac, key_, {bytes(hello_.data(), kHelloBytes), bytes(server_hello, 40)});
  if (crypto_verify_32(mac, server_hello + 40) != 0) return std::nullopt;
  uint8_t rx[32], tx[32];
  if (crypto_kx_client_session_keys(rx, tx, hello_.data() + 8, secret_, server_hello + 8) != 0)
    return std::nullopt;
  uint8_t client_hello[kHelloBytes];
  std::memcpy(client_hello, hello_.data(), kHelloBytes);
  SessionKeys keys;
  derive(key_, client_hello, server_hello, tx, rx, keys.send, keys.receive);
  sodium_memzero(rx, sizeof rx);
  sodium_memzero(tx, sizeof tx);
  return keys;
}

HelloError server_handshake(const Key& key, const uint8_t (&client_hello)[kHelloBytes],
                            uint8_t (&server_hello)[kHelloBytes], SessionKeys& keys) {
  init_sodium();
  if (std::memcmp(client_hello, kClientMagic.data(), 8) != 0) return HelloError::kBadMagic;
  uint8_t mac[32];
  keyed_hash(mac, key, {bytes(client_hello, 40)});
  if (crypto_verify_32(mac, client_hello + 40) != 0) return HelloError::kBadKey;
  uint8_t pk[32], sk[32], rx[32], tx[32];
  crypto_kx_keypair(pk, sk);
  // A low-order client key fails here: only a client that computed a valid
  // MAC can send one, so it is one with the key that is misbehaving.
  const int r = crypto_kx_server_session_keys(rx, tx, pk, sk, client_hello + 8);
  sodium_memzero(sk, sizeof sk);
  if (r != 0) return HelloError::kBadKey;
  uint8_t out[kHelloBytes];
  std::memcpy(out, kServerMagic.data(), 8);
  std::memcpy(out + 8, pk, 32);
  keyed_hash(mac, key, {bytes(client_hello, kHelloBytes), bytes(out, 40)});
  std::memcpy(out + 40, mac, 32);
  derive(key, client_hello, out, rx, tx, keys.receive, keys.send);
  sodium_memzero(rx, sizeof rx);
  sodium_memzero(tx, sizeof tx);
  std::memcpy(server_hello, out, kHelloBytes);
  return HelloError::kNone;
}

void FrameSealer::seal(std::string_view message, std::string& out) {
  const size_t sealed = message.size() + kTagBytes;
  uint8_t length[kLengthBytes] = {static_cast<uint8_t>(sealed >> 24),
                                  static_cast<uint8_t>(sealed >> 16),
                                  static_cast<uint8_t>(sealed >> 8), static_cast<uint8_t>(sealed)};
  const size_t at = out.size();
  out.append(reinterpret_cast<const char*>(length), kLengthBytes);
  out.resize(at + kLengthBytes + sealed);
  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  nonce_of(counter_++, nonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out.data() + at + kLengthBytes), &written,
      reinterpret_cast<const unsigned char*>(message.data()), message.size(), length, kLengthBytes,
      nullptr, nonce, key_.data());
}

size_t FrameOpener::body_length(const uint8_t (&length)[kLengthBytes]) {
  const size_t n =
      (size_t{length[0]} << 24) | (size_t{length[1]} << 16) | (size_t{length[2]} << 8) | length[3];
  return n > kTagBytes && n <= kMaxSealed ? n : 0;
}

bool FrameOpener::open(const uint8_t (&length)[kLengthBytes], const uint8_t* body, size_t size,
                       std::string& message) {
  if (size <= kTagBytes || size > kMaxSealed) return false;
  message.resize(size - kTagBytes);
  uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  nonce_of(counter_, nonce);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(message.data()),
                                                 &written, nullptr, body, size, length,
                                                 kLengthBytes, nonce, key_.data()) != 0) {
    message.clear();
    return false;
  }
  ++counter_;
  return true;
}

}  // namespace dnspc::runtime::console
