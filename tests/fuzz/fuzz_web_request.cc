// libFuzzer target: any bytes as what a web client sends, through the whole
// request path without a socket: HttpConnection (parsing, limits, timeouts)
// -> WebApp (ACL, credentials: Basic, cookie MAC, API key; routes and their
// parameters; writes) -> command answers shaped by api_answer. The first
// byte seeds how the rest is cut into reads, when the fake clock jumps (so
// timeouts fire mid-request) and whether credential checks and commands
// answer at once or later. Asserts that nothing crashes, every output is an
// HTTP/1.1 answer, and a finished connection says nothing more.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <string>

#include "dnspc/runtime/web_app.h"

namespace dnspc::runtime {
// The page's files, as the build embeds them (web_assets.h), without the build.
std::span<const WebAsset> web_assets() {
  static const WebAsset assets[] = {
      {"/", "text/html; charset=utf-8", "<html></html>", "\x1f\x8b gzip"}};
  return assets;
}
}  // namespace dnspc::runtime

namespace {

using namespace dnspc;
using namespace dnspc::runtime;

struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Answers "password" and "key" as right (no Argon2 here: it is slow by
// design), at once or when released.
class FakeVerifier : public SecretVerifier {
 public:
  void verify(std::string secret, std::string hash, std::function<void(bool)> done) override {
    const bool ok = secret == hash;
    if (later) {
      waiting.push_back([ok, done = std::move(done)] { done(ok); });
    } else {
      done(ok);
    }
  }
  bool later = false;
  std::deque<std::function<void()>> waiting;
};

const char* canned(uint64_t r) {
  static const char* replies[] = {
      "{\"queries\":1}",
      "{}",
      "{\"error\":\"usage: x\",\"usage\":\"x\"}",
      "{\"error\":\"unknown server 'x'\",\"servers\":[\"a\"]}",
      "{\"error\":\"unknown command 'pools'\",\"commands\":[]}",
      "{\"ok\":false}",
      "not json",
      "[1,2]",
      "# HELP dnspc_x x\n# TYPE dnspc_x gauge\ndnspc_x 1\n",
      "{\"api_version\":1}",
  };
  return replies[r % (sizeof replies / sizeof *replies)];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const bool crypto = web_crypto_init();
  if (!crypto) return 0;
  Rng rng{0x9e3779b97f4a7c15ull ^ data[0]};
  uint64_t now = 1'000'000;

  WebSpec spec;
  spec.acl.push_back({*NetAddress::parse("127.0.0.0"), 8});
  spec.writes = (data[0] & 1) != 0;
  FakeVerifier verifier;
  std::deque<std::function<void()>> commands;
  bool commands_later = false;
  WebAppConfig config;
  config.credentials.password_hash = "password";
  config.credentials.api_key_hash = "key";
  config.command = [&](std::string_view line, std::function<void(std::string)> reply) {
    check(!line.empty() && line.find('\n') == std::string_view::npos);
    const char* answer = canned(rng.next());
    if (commands_later) {
      commands.push_back([reply = std::move(reply), answer] { reply(answer); });
    } else {
      reply(answer);
    }
  };
  config.settings = [&spec] { return &spec; };
  config.verifier = &verifier;
  config.now_ms = [&now] { return now; };
  WebApp app(std::move(config));

  HttpLimits limits;
  limits.max_body = 4096;  // smaller limits: reached more often
  limits.max_header_bytes = 2048;
  limits.max_headers = 16;
  limits.max_url = 1024;
  std::string output;
  std::unique_ptr<HttpConnection> conn;
  conn = std::make_unique<HttpConnection>(
      limits,
      [&](const HttpRequest& r) {
        const NetAddress client = *NetAddress::parse((rng.next() & 15) ? "127.0.0.1" : "192.0.2.1");
        app.handle(r, client, [&conn](HttpResponse out) { conn->respond(std::move(out)); });
      },
      now);

  auto drain = [&] {
    for (;;) {  // each turn answers one request: ends with the input
      std::string out = conn->take_output();
      if (out.empty()) break;
      check(out.rfind("HTTP/1.1 ", 0) == 0);
      output += out;
      conn->written(now);
    }
  };
  auto release = [&] {
    while (!verifier.waiting.empty() || !commands.empty()) {
      if (!verifier.waiting.empty()) {
        auto f = std::move(verifier.waiting.front());
        verifier.waiting.pop_front();
        f();
      }
      if (!commands.empty()) {
        auto f = std::move(commands.front());
        commands.pop_front();
        f();
      }
      drain();
    }
  };

  size_t pos = 1;
  while (pos < size && !conn->finished()) {
    const uint64_t r = rng.next();
    verifier.later = (r & 3) == 0;
    commands_later = (r & 12) == 0;
    const size_t n = std::min<size_t>(size - pos, 1 + (r >> 8) % 300);
    conn->feed(std::string_view(reinterpret_cast<const char*>(data + pos), n), now);
    pos += n;
    drain();
    if ((r >> 20) % 4 == 0) release();
    if ((r >> 24) % 8 == 0) {
      now += (r >> 32) % 40'000;  // past the request or idle timeout, sometimes
      conn->tick(now);
      drain();
    }
  }
  release();
  now += 60'000;
  conn->tick(now);
  drain();
  // Every request was answered (or the connection dropped), and a minute
  // later nothing keeps it open; once finished it says nothing more.
  check(conn->finished());
  conn->feed("GET / HTTP/1.1\r\n\r\n", now);
  check(conn->take_output().empty());
  return 0;
}
