// ThreadPoolVerifier: the Argon2 check on a libuv pool thread. The secret is
// wiped once checked, so it does not linger in freed memory.
#include <sodium.h>
#include <uv.h>

#include "dnspc/runtime/web_auth.h"
#include "dnspc/runtime/web_verifier.h"

namespace dnspc::runtime {

namespace {

struct Check {
  uv_work_t work;
  std::string secret, hash;
  std::function<void(bool)> done;
  bool ok = false;
};

}  // namespace

void ThreadPoolVerifier::verify(std::string secret, std::string hash,
                                std::function<void(bool ok)> done) {
  auto* c = new Check;
  c->work.data = c;
  c->secret = std::move(secret);
  c->hash = std::move(hash);
  c->done = std::move(done);
  const int r = uv_queue_work(
      loop_, &c->work,
      [](uv_work_t* w) {
        auto* check = static_cast<Check*>(w->data);
        check->ok = verify_password_hash(check->hash, check->secret);
        sodium_memzero(check->secret.data(), check->secret.size());
      },
      [](uv_work_t* w, int status) {
        auto* check = static_cast<Check*>(w->data);
        check->done(status == 0 && check->ok);
        delete check;
      });
  if (r != 0) {
    sodium_memzero(c->secret.data(), c->secret.size());
    auto fail = std::move(c->done);
    delete c;
    fail(false);
  }
}

}  // namespace dnspc::runtime
