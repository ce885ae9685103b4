// What the server remembers after a slow check, so the next requests are
// cheap: signed session cookies (after a password) and the API key's digest.
// Both compare in constant time, so timing tells an attacker nothing about
// how close a guess came.
#include <sodium.h>

#include <cstring>

#include "dnspc/runtime/web_auth.h"

namespace dnspc::runtime {

namespace {

// expiry (8 bytes, big-endian ms) || id (16 random bytes) || MAC.
constexpr size_t kPayload = 8 + 16;
constexpr size_t kCookieBytes = kPayload + crypto_auth_BYTES;
constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

static_assert(crypto_auth_KEYBYTES == 32, "SessionKeys holds a 32-byte key");
static_assert(crypto_hash_sha256_BYTES == 32, "ApiKeyCache holds a 32-byte digest");

}  // namespace

SessionKeys::SessionKeys() {
  crypto_auth_keygen(key_.data());
}

std::string SessionKeys::issue(uint64_t now_ms, uint64_t lifetime_ms) const {
  unsigned char raw[kCookieBytes];
  const uint64_t expiry = now_ms + lifetime_ms;
  for (int i = 0; i < 8; ++i) raw[i] = static_cast<unsigned char>(expiry >> (56 - 8 * i));
  randombytes_buf(raw + 8, 16);
  crypto_auth(raw + kPayload, raw, kPayload, key_.data());
  char text[sodium_base64_ENCODED_LEN(kCookieBytes, kVariant)];
  sodium_bin2base64(text, sizeof text, raw, sizeof raw, kVariant);
  return text;
}

bool SessionKeys::valid(std::string_view cookie, uint64_t now_ms) const {
  unsigned char raw[kCookieBytes];
  size_t n = 0;
  // Longer text cannot decode to exactly the cookie's bytes; refuse it before decoding.
  if (cookie.size() != sodium_base64_ENCODED_LEN(kCookieBytes, kVariant) - 1) return false;
  if (sodium_base642bin(raw, sizeof raw, cookie.data(), cookie.size(), nullptr, &n, nullptr,
                        kVariant) != 0 ||
      n != kCookieBytes) {
    return false;
  }
  if (crypto_auth_verify(raw + kPayload, raw, kPayload, key_.data()) != 0) return false;
  uint64_t expiry = 0;
  for (int i = 0; i < 8; ++i) expiry = expiry << 8 | raw[i];
  return now_ms < expiry;
}

bool ApiKeyCache::matches(std::string_view key) const {
  if (!known_) return false;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  return sodium_memcmp(digest, digest_.data(), sizeof digest) == 0;
}

void ApiKeyCache::remember(std::string_view key) {
  crypto_hash_sha256(digest_.data(), reinterpret_cast<const unsigned char*>(key.data()),
                     key.size());
  known_ = true;
}

}  // namespace dnspc::runtime
