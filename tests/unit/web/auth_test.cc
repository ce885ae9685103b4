// Credentials: hashes (checked with the cheapest limits libsodium allows, so
// the tests stay fast), where they come from, how requests carry them, the
// session cookie and the API-key cache, and the rate limits.
#include <sodium.h>
#include <catch2/catch.hpp>

#include "dnspc/runtime/web_auth.h"
#include "dnspc/runtime/web_throttle.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

std::string cheap_hash(std::string_view secret) {
  REQUIRE(web_crypto_init());
  std::string h = hash_password(secret, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
  REQUIRE_FALSE(h.empty());
  return h;
}

std::string base64(std::string_view s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the NUL
  return out;
}

NetAddress addr(const char* text) {
  return *NetAddress::parse(text);
}

}  // namespace

TEST_CASE("auth: a hash verifies its secret and nothing else", "[web]") {
  const std::string h = cheap_hash("correct horse");
  CHECK(h.rfind("$argon2id$", 0) == 0);
  CHECK(is_password_hash(h));
  CHECK(verify_password_hash(h, "correct horse"));
  CHECK_FALSE(verify_password_hash(h, "correct horse "));
  CHECK_FALSE(verify_password_hash(h, ""));
  CHECK_FALSE(verify_password_hash("$argon2id$garbage", "correct horse"));
  CHECK_FALSE(is_password_hash("correct horse"));
  CHECK_FALSE(is_password_hash("$argon2id$v=19$m=65536,t=2,p=1$broken"));
  CHECK_FALSE(is_password_hash(""));
  CHECK_FALSE(is_password_hash("$2y$10$abcdefghijklmnopqrstuv"));  // bcrypt is not ours
}

TEST_CASE("auth: the credentials refuse a missing password and plain secrets, naming the fix",
          "[web]") {
  const std::string h = cheap_hash("pw");
  WebCredentials c;
  std::string error;
  CHECK_FALSE(web_credentials(nullptr, nullptr, c, error));
  CHECK(error.find("DNSPC_WEB_PASSWORD is not set") == 0);
  CHECK(error.find("dnspc hash-password") != std::string::npos);
  CHECK_FALSE(web_credentials("", nullptr, c, error));
  CHECK_FALSE(web_credentials("hunter2", nullptr, c, error));
  CHECK(error.find("plain password") != std::string::npos);
  CHECK(error.find("dnspc hash-password") != std::string::npos);
  CHECK(error.find("hunter2") == std::string::npos);  // never echo the secret
  CHECK_FALSE(web_credentials(h.c_str(), "plain-key", c, error));
  CHECK(error.find("DNSPC_WEB_API_KEY holds a plain key") == 0);
  REQUIRE(web_credentials(h.c_str(), nullptr, c, error));
  CHECK(c.password_hash == h);
  CHECK(c.api_key_hash.empty());
  REQUIRE(web_credentials(h.c_str(), h.c_str(), c, error));
  CHECK(c.api_key_hash == h);
}

TEST_CASE("auth: Basic takes any user name and keeps colons in the password", "[web]") {
  CHECK(basic_password("Basic " + base64("admin:s3cret")) == "s3cret");
  CHECK(basic_password("basic " + base64(":a:b:c")) == "a:b:c");
  CHECK(basic_password("  BASIC   " + base64("u:") + "  ") == "");
  CHECK_FALSE(basic_password("Basic " + base64("no colon")));
  CHECK_FALSE(basic_password("Bearer " + base64("u:p")));
  CHECK_FALSE(basic_password("Basic !!!notbase64"));
  CHECK_FALSE(basic_password("Basic"));
  CHECK_FALSE(basic_password(""));
}

TEST_CASE("auth: cookie_value finds one cookie among others", "[web]") {
  CHECK(cookie_value("a=1; dnspc_session=XYZ; b=2", "dnspc_session") == "XYZ");
  CHECK(cookie_value("dnspc_session=\"Q\"", "dnspc_session") == "Q");
  CHECK(cookie_value("xdnspc_session=1", "dnspc_session").empty());
  CHECK(cookie_value("", "dnspc_session").empty());
  CHECK(cookie_value(";;;=;", "dnspc_session").empty());
}

TEST_CASE("auth: a session cookie is valid until it expires, and only as issued", "[web]") {
  REQUIRE(web_crypto_init());
  SessionKeys keys;
  const std::string cookie = keys.issue(1'000, 60'000);
  CHECK(cookie.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(keys.valid(cookie, 1'000));
  CHECK(keys.valid(cookie, 60'999));
  CHECK_FALSE(keys.valid(cookie, 61'000));
  CHECK(keys.issue(1'000, 60'000) != cookie);  // a random id in each

  // Any change is caught by the MAC: the expiry pushed, the id, the MAC.
  for (size_t i = 0; i < cookie.size(); ++i) {
    std::string t = cookie;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    INFO(i);
    CHECK_FALSE(keys.valid(t, 1'000));
  }
  CHECK_FALSE(keys.valid(cookie + "A", 1'000));
  CHECK_FALSE(keys.valid(cookie.substr(1), 1'000));
  CHECK_FALSE(keys.valid("", 1'000));
  // Another process (another key) does not take it.
  SessionKeys other;
  CHECK_FALSE(other.valid(cookie, 1'000));
}

TEST_CASE("auth: the API-key cache matches only the key it remembered", "[web]") {
  REQUIRE(web_crypto_init());
  ApiKeyCache cache;
  CHECK_FALSE(cache.matches("k1"));
  cache.remember("k1");
  CHECK(cache.matches("k1"));
  CHECK_FALSE(cache.matches("k2"));
  CHECK_FALSE(cache.matches(""));
}

TEST_CASE("throttle: at most two checks at once", "[web]") {
  AuthThrottle t;
  const NetAddress a = addr("192.0.2.1"), b = addr("192.0.2.2"), c = addr("192.0.2.3");
  CHECK(t.admit(a, 0) == AuthThrottle::Verdict::kGo);
  CHECK(t.admit(b, 0) == AuthThrottle::Verdict::kGo);
  CHECK(t.admit(c, 0) == AuthThrottle::Verdict::kBusy);
  t.finished(a, true, 10);
  CHECK(t.admit(c, 10) == AuthThrottle::Verdict::kGo);
  CHECK(t.running() == 2);
}

TEST_CASE("throttle: at most four checks start in any second", "[web]") {
  AuthThrottle t;
  const NetAddress a = addr("192.0.2.1");
  for (int i = 0; i < 4; ++i) {
    REQUIRE(t.admit(a, 100 + i) == AuthThrottle::Verdict::kGo);
    t.finished(a, true, 100 + i);
  }
  CHECK(t.admit(a, 900) == AuthThrottle::Verdict::kTooFast);
  CHECK(t.admit(a, 1099) == AuthThrottle::Verdict::kTooFast);
  CHECK(t.admit(a, 1100) == AuthThrottle::Verdict::kGo);
}

TEST_CASE("throttle: a client whose check failed waits a second, others do not", "[web]") {
  AuthThrottle t;
  const NetAddress a = addr("192.0.2.1"), b = addr("2001:db8::1");
  REQUIRE(t.admit(a, 0) == AuthThrottle::Verdict::kGo);
  t.finished(a, false, 100);
  CHECK(t.admit(a, 500) == AuthThrottle::Verdict::kClientPaused);
  CHECK(t.admit(b, 500) == AuthThrottle::Verdict::kGo);
  t.finished(b, true, 500);
  CHECK(t.admit(a, 1099) == AuthThrottle::Verdict::kClientPaused);
  CHECK(t.admit(a, 1100) == AuthThrottle::Verdict::kGo);
  t.finished(a, true, 1100);
  CHECK(t.paused_clients() == 0);
}
