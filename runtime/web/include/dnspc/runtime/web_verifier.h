// Where the slow credential checks run. The web app asks; the server's
// verifier runs each on libuv's thread pool (uv_queue_work) and answers on
// the loop, so a check never holds up the main loop (control socket, health
// checks, reloads). Tests use one that answers at once or on demand.
#pragma once

#include <functional>
#include <string>

typedef struct uv_loop_s uv_loop_t;

namespace dnspc::runtime {

class SecretVerifier {
 public:
  virtual ~SecretVerifier() = default;
  // Checks `secret` against `hash` (crypto_pwhash_str); `done(ok)` runs
  // later on the caller's loop, or at once.
  virtual void verify(std::string secret, std::string hash, std::function<void(bool ok)> done) = 0;
};

// On libuv's thread pool. The loop must outlive every check started (the
// main loop runs until their callbacks have run).
class ThreadPoolVerifier : public SecretVerifier {
 public:
  explicit ThreadPoolVerifier(uv_loop_t* loop) : loop_(loop) {}
  void verify(std::string secret, std::string hash, std::function<void(bool ok)> done) override;

 private:
  uv_loop_t* loop_;
};

}  // namespace dnspc::runtime
