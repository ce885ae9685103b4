// The web server's credentials (docs/web.md, "Authentication"), with
// libsodium:
//
// - the password and the API key are configured as crypto_pwhash_str hashes
//   (Argon2id; `dnspc hash-password` prints one), never in plain;
// - checking a secret against such a hash is slow on purpose (about 100 ms
//   and 64 MiB with the interactive limits): the server does it off its loop
//   (web_verifier.h), rate-limited (web_throttle.h), and then
// - remembers the result: a session cookie signed with a per-process key
//   after a password (SessionKeys), the SHA-256 of the API key once it was
//   checked (ApiKeyCache), both compared in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dnspc::runtime {

// sodium_init(), once; false when libsodium cannot start (no entropy).
bool web_crypto_init();

// Whether `s` is a crypto_pwhash_str hash libsodium can check (Argon2id or
// Argon2i, well formed).
bool is_password_hash(std::string_view s);

// The slow check. False for a wrong secret or a malformed hash.
bool verify_password_hash(const std::string& hash, std::string_view secret);

// A new hash of `secret` (`dnspc hash-password`: the interactive limits);
// empty when libsodium fails (out of memory). Tests pass lower limits.
std::string hash_password(std::string_view secret);
std::string hash_password(std::string_view secret, unsigned long long opslimit, size_t memlimit);

struct WebCredentials {
  std::string password_hash;  // DNSPC_WEB_PASSWORD: always set
  std::string api_key_hash;   // DNSPC_WEB_API_KEY: empty when not set (no API key, no writes)
};

// The credentials from the values of DNSPC_WEB_PASSWORD and
// DNSPC_WEB_API_KEY (null: unset). False with `error` saying what to do
// when the password is missing or either is not a hash.
bool web_credentials(const char* password, const char* api_key, WebCredentials& out,
                     std::string& error);
// The same, from the environment.
bool web_credentials_from_env(WebCredentials& out, std::string& error);

// The password of an "Authorization: Basic base64(user:password)" header
// (any user name); null when the header is not that.
std::optional<std::string> basic_password(std::string_view authorization);

// The value of cookie `name` in a Cookie header ("a=1; dnspc_session=..."),
// or empty.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

inline constexpr std::string_view kSessionCookie = "dnspc_session";
inline constexpr uint64_t kSessionLifetimeMs = 12ull * 3600 * 1000;

// Session cookies: base64url(expiry || random id || MAC), the MAC
// (crypto_auth, HMAC-SHA-512-256) over the expiry and the id with a key
// drawn at start, so a restart ends every session and a cookie cannot be
// made or extended without the key. Times are the server's monotonic
// milliseconds.
class SessionKeys {
 public:
  SessionKeys();  // a fresh random key (after web_crypto_init)
  std::string issue(uint64_t now_ms, uint64_t lifetime_ms = kSessionLifetimeMs) const;
  // Authentic (constant-time MAC check) and not expired.
  bool valid(std::string_view cookie, uint64_t now_ms) const;

 private:
  std::array<unsigned char, 32> key_{};
};

// The API key, once checked against its slow hash: its SHA-256, so later
// requests cost a hash and a constant-time compare.
class ApiKeyCache {
 public:
  bool matches(std::string_view key) const;
  void remember(std::string_view key);

 private:
  std::array<unsigned char, 32> digest_{};
  bool known_ = false;
};

}  // namespace dnspc::runtime
