// Password and API-key hashes: libsodium's crypto_pwhash_str (Argon2id),
// and where the server takes them from (DNSPC_WEB_PASSWORD,
// DNSPC_WEB_API_KEY). A plain secret there is refused rather than hashed
// for the operator: a secret in the environment leaks through
// /proc/PID/environ, shell history and process listings; a hash does not
// give the password away.
#include <sodium.h>

#include <cstdlib>

#include "dnspc/runtime/web_auth.h"

namespace dnspc::runtime {

bool web_crypto_init() {
  return sodium_init() >= 0;
}

bool is_password_hash(std::string_view s) {
  if (s.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string text(s);
  // needs_rehash returns -1 for a string that is not a hash of its kind.
  if (s.starts_with("$argon2id$")) {
    return crypto_pwhash_argon2id_str_needs_rehash(text.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                   crypto_pwhash_MEMLIMIT_INTERACTIVE) >= 0;
  }
  if (s.starts_with("$argon2i$")) {
    return crypto_pwhash_argon2i_str_needs_rehash(text.c_str(),
                                                  crypto_pwhash_argon2i_OPSLIMIT_INTERACTIVE,
                                                  crypto_pwhash_argon2i_MEMLIMIT_INTERACTIVE) >= 0;
  }
  return false;
}

bool verify_password_hash(const std::string& hash, std::string_view secret) {
  return crypto_pwhash_str_verify(hash.c_str(), secret.data(), secret.size()) == 0;
}

std::string hash_password(std::string_view secret, unsigned long long opslimit, size_t memlimit) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, secret.data(), secret.size(), opslimit, memlimit) != 0) return {};
  return out;
}

std::string hash_password(std::string_view secret) {
  return hash_password(secret, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                       crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

bool web_credentials(const char* password, const char* api_key, WebCredentials& out,
                     std::string& error) {
  out = WebCredentials{};
  if (!web_crypto_init()) {
    error = "libsodium cannot start (no entropy source?)";
    return false;
  }
  if (!password || !*password) {
    error =
        "DNSPC_WEB_PASSWORD is not set: the web server does not run without a password. Run `dnspc "
        "hash-password`, type the password, and set DNSPC_WEB_PASSWORD to the hash it prints";
    return false;
  }
  if (!is_password_hash(password)) {
    error =
        "DNSPC_WEB_PASSWORD holds a plain password, not a hash: run `dnspc hash-password`, type "
        "the "
        "password, and set DNSPC_WEB_PASSWORD to the hash it prints ($argon2id$...)";
    return false;
  }
  out.password_hash = password;
  if (api_key && *api_key) {
    if (!is_password_hash(api_key)) {
      error =
          "DNSPC_WEB_API_KEY holds a plain key, not a hash: run `dnspc hash-password`, type the "
          "key, and "
          "set DNSPC_WEB_API_KEY to the hash it prints ($argon2id$...)";
      return false;
    }
    out.api_key_hash = api_key;
  }
  return true;
}

bool web_credentials_from_env(WebCredentials& out, std::string& error) {
  return web_credentials(std::getenv("DNSPC_WEB_PASSWORD"), std::getenv("DNSPC_WEB_API_KEY"), out,
                         error);
}

}  // namespace dnspc::runtime
