// HttpConnection without a socket: requests parsed under the limits, the
// status of each refusal, keep-alive and pipelining, the timeouts, and the
// headers every answer carries.
#include <catch2/catch.hpp>

#include <string>

#include "http_driver.h"

using namespace dnspc::runtime;
using web_test::Driver;

namespace {

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

}  // namespace

TEST_CASE("http: a request is parsed and answered, and the connection stays open", "[web]") {
  Driver d;
  d.send(
      "GET /api/v1/stats?x=1 HTTP/1.1\r\nHost: a\r\nX-API-Key: k\r\nAccept-Encoding: gzip\r\n\r\n");
  REQUIRE(d.requests.size() == 1);
  CHECK(d.requests[0].method == "GET");
  CHECK(d.requests[0].target == "/api/v1/stats?x=1");
  REQUIRE(d.requests[0].header("x-api-key"));
  CHECK(*d.requests[0].header("x-api-key") == "k");
  CHECK(d.requests[0].header("nothing") == nullptr);
  auto a = d.answers();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 200);
  CHECK(a[0].body == "you asked GET /api/v1/stats?x=1");
  CHECK_FALSE(a[0].has("connection"));
  CHECK_FALSE(d.conn.finished());
  CHECK(d.conn.wants_input());
}

TEST_CASE("http: every answer carries the security headers and never a CORS header", "[web]") {
  Driver d;
  d.send(get("/", "Origin: https://evil.example\r\n"));
  auto a = d.answers();
  REQUIRE(a.size() == 1);
  CHECK(a[0].header("content-security-policy") == "default-src 'self'");
  CHECK(a[0].header("x-content-type-options") == "nosniff");
  CHECK(a[0].header("x-frame-options") == "DENY");
  CHECK(a[0].header("referrer-policy") == "no-referrer");
  CHECK(a[0].header("cache-control") == "no-store");
  CHECK(a[0].has("date"));
  for (const auto& [name, value] : a[0].headers) CHECK(name.rfind("access-control-", 0) != 0);

  // Errors too.
  Driver e;
  e.send("garbage\r\n\r\n");
  auto b = e.answers();
  REQUIRE(b.size() == 1);
  CHECK(b[0].status == 400);
  CHECK(b[0].header("x-frame-options") == "DENY");
  CHECK(b[0].header("connection") == "close");
}

TEST_CASE("http: byte by byte, the request is the same", "[web]") {
  Driver d;
  const std::string req = "POST /api/v1/reload HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
  for (char c : req) d.send(std::string(1, c));
  REQUIRE(d.requests.size() == 1);
  CHECK(d.requests[0].body == "body");
  CHECK(d.answers().size() == 1);
}

TEST_CASE("http: pipelined requests are answered one at a time, in order", "[web]") {
  Driver d;
  d.sync = false;
  d.send(get("/a") + get("/b") + get("/c"));
  REQUIRE(d.requests.size() == 1);  // the rest waits for the first answer
  CHECK_FALSE(d.conn.wants_input());
  d.conn.respond(d.answer(d.requests[0]));
  d.flush();
  REQUIRE(d.requests.size() == 2);
  CHECK(d.requests[1].target == "/b");
  d.conn.respond(d.answer(d.requests[1]));
  d.flush();
  d.conn.respond(d.answer(d.requests[2]));
  d.flush();
  auto a = d.answers();
  REQUIRE(a.size() == 3);
  CHECK(a[0].body == "you asked GET /a");
  CHECK(a[2].body == "you asked GET /c");
  CHECK(d.conn.wants_input());
}

TEST_CASE("http: Connection close and HTTP/1.0 close after the answer", "[web]") {
  Driver d;
  d.send(get("/", "Connection: close\r\n"));
  auto a = d.answers();
  REQUIRE(a.size() == 1);
  CHECK(a[0].header("connection") == "close");
  CHECK(d.conn.finished());

  Driver old;
  old.send("GET / HTTP/1.0\r\n\r\n");
  REQUIRE(old.answers().size() == 1);
  CHECK(old.conn.finished());

  Driver two;
  two.send("GET / HTTP/2.0\r\n\r\n");
  REQUIRE(two.answers().size() == 1);
  CHECK(two.answers()[0].status == 505);
}

TEST_CASE("http: HEAD gets the headers of the body without the body", "[web]") {
  Driver d;
  d.send("HEAD / HTTP/1.1\r\n\r\n" + get("/next"));
  // The HEAD answer says the GET body's length but sends none; the next
  // answer follows at once.
  const std::string& out = d.output;
  CHECK(out.find("Content-Length: 16") != std::string::npos);  // "you asked HEAD /"
  CHECK(out.find("you asked HEAD") == std::string::npos);
  CHECK(out.find("you asked GET /next") != std::string::npos);
}

TEST_CASE("http: a request target past 8 KiB is 414", "[web]") {
  Driver d;
  d.send(get("/" + std::string(8 * 1024, 'a')));
  auto a = d.answers();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 414);
  CHECK(d.conn.finished());
  CHECK(d.requests.empty());

  Driver ok;
  ok.send(get("/" + std::string(8 * 1024 - 1, 'a')));
  REQUIRE(ok.answers().size() == 1);
  CHECK(ok.answers()[0].status == 200);
}

TEST_CASE("http: more than 64 headers, or 16 KiB of them, is 431", "[web]") {
  std::string many;
  for (int i = 0; i < 65; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  Driver d;
  d.send(get("/", many));
  REQUIRE(d.answers().size() == 1);
  CHECK(d.answers()[0].status == 431);
  CHECK(d.conn.finished());

  std::string sixty_four;
  for (int i = 0; i < 63; ++i) sixty_four += "X-H" + std::to_string(i) + ": v\r\n";  // + Host
  Driver fine;
  fine.send(get("/", sixty_four));
  REQUIRE(fine.answers().size() == 1);
  CHECK(fine.answers()[0].status == 200);

  Driver big;
  big.send(get("/", "X-Big: " + std::string(16 * 1024, 'b') + "\r\n"));
  REQUIRE(big.answers().size() == 1);
  CHECK(big.answers()[0].status == 431);

  // Whitespace the parser skips without a callback still counts, through
  // its own bound.
  Driver spaces;
  spaces.send("GET / HTTP/1.1\r\nX-A:" + std::string(40 * 1024, ' ') + "v\r\n\r\n");
  REQUIRE(spaces.answers().size() == 1);
  CHECK(spaces.answers()[0].status == 431);
}

TEST_CASE("http: a body past 64 KiB is 413, announced or chunked", "[web]") {
  Driver d;
  d.send("POST /api/v1/reload HTTP/1.1\r\nContent-Length: 65537\r\n\r\n");
  REQUIRE(d.answers().size() == 1);
  CHECK(d.answers()[0].status == 413);
  CHECK(d.conn.finished());

  Driver chunked;
  std::string body;
  for (int i = 0; i < 17; ++i) body += "1000\r\n" + std::string(4096, 'c') + "\r\n";
  chunked.send("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n");
  REQUIRE(chunked.answers().size() == 1);
  CHECK(chunked.answers()[0].status == 413);

  Driver fits;
  fits.send("POST /x HTTP/1.1\r\nContent-Length: 65536\r\n\r\n" + std::string(65536, 'z'));
  REQUIRE(fits.requests.size() == 1);
  CHECK(fits.requests[0].body.size() == 65536);
}

TEST_CASE("http: Expect 100-continue gets 100 before the body, and the final answer after it", "[web]") {
  Driver d;
  d.send("POST /api/v1/reload HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n");
  REQUIRE(d.answers().size() == 1);
  CHECK(d.answers()[0].status == 100);
  CHECK(d.requests.empty());
  CHECK(d.conn.wants_input());
  d.send("down");
  REQUIRE(d.answers().size() == 2);
  CHECK(d.answers()[1].status == 200);
  REQUIRE(d.requests.size() == 1);
  CHECK(d.requests[0].body == "down");
  CHECK_FALSE(d.conn.finished());  // kept alive

  // The body in the same read: the 100 and the answer go out together.
  Driver together;
  together.send("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nup");
  REQUIRE(together.answers().size() == 2);
  CHECK(together.answers()[0].status == 100);
  CHECK(together.answers()[1].status == 200);

  // Too large: the final 413 instead of the 100; without a body, no 100.
  Driver big;
  big.send("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 65537\r\n\r\n");
  REQUIRE(big.answers().size() == 1);
  CHECK(big.answers()[0].status == 413);
  Driver none;
  none.send("POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(none.answers().size() == 1);
  CHECK(none.answers()[0].status == 200);
  // Connection: close still closes after the final answer.
  Driver closing;
  closing.send("POST /x HTTP/1.1\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  closing.send("z");
  REQUIRE(closing.answers().size() == 2);
  CHECK(closing.conn.finished());
}

TEST_CASE("http: only POST has a body", "[web]") {
  Driver d;
  d.send("GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  REQUIRE(d.answers().size() == 1);
  CHECK(d.answers()[0].status == 400);

  Driver zero;
  zero.send("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(zero.answers().size() == 1);
  CHECK(zero.answers()[0].status == 200);
}

TEST_CASE("http: malformed requests, upgrades and CONNECT are 400 and close", "[web]") {
  for (const char* bad : {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", "\x01\x02\x03\r\n\r\n",
                          "GET / FTP/1.1\r\n\r\n", "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
                          "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"}) {
    INFO(bad);
    Driver d;
    d.send(bad);
    REQUIRE(d.answers().size() == 1);
    CHECK(d.answers()[0].status == 400);
    CHECK(d.conn.finished());
    CHECK(d.requests.empty());
  }
}

TEST_CASE("http: a request not complete within the timeout is 408", "[web]") {
  HttpLimits limits;
  limits.request_timeout_ms = 10'000;
  Driver d(limits);
  d.send("GET / HTTP/1.1\r\n");
  CHECK(d.conn.deadline_ms() == d.now + 10'000);
  d.advance(5'000);
  d.send("X-Slow: 1\r\n");  // bytes do not extend the deadline
  d.advance(4'999);
  CHECK(d.answers().empty());
  d.advance(1);
  REQUIRE(d.answers().size() == 1);
  CHECK(d.answers()[0].status == 408);
  CHECK(d.conn.finished());
}

TEST_CASE("http: an idle keep-alive connection closes silently after 30 s", "[web]") {
  Driver d;
  d.send(get("/"));
  REQUIRE(d.answers().size() == 1);
  d.advance(29'999);
  d.send("\r\n");  // stray empty lines are no activity
  CHECK_FALSE(d.conn.finished());
  d.advance(1);
  CHECK(d.conn.finished());
  CHECK(d.answers().size() == 1);  // no 408 for a connection between requests
}

TEST_CASE("http: an answer the client does not read closes the connection", "[web]") {
  Driver d;
  d.conn.feed(get("/"), d.now);
  std::string out = d.conn.take_output();
  REQUIRE_FALSE(out.empty());
  CHECK_FALSE(d.conn.wants_input());
  d.now += 30'000;
  d.conn.tick(d.now);
  CHECK(d.conn.finished());
}

TEST_CASE("http: while a request is handled nothing else is parsed, and no timeout runs", "[web]") {
  Driver d;
  d.sync = false;
  d.send(get("/slow"));
  CHECK(d.conn.deadline_ms() == 0);
  d.send(get("/next"));
  CHECK(d.requests.size() == 1);
  d.advance(60'000);
  CHECK_FALSE(d.conn.finished());
  d.conn.respond(d.answer(d.requests[0]));
  d.flush();
  CHECK(d.requests.size() == 2);
}

TEST_CASE("http: a dropped request closes without a byte", "[web]") {
  Driver d(HttpLimits{}, [](const HttpRequest&) {
    HttpResponse r;
    r.drop = true;
    return r;
  });
  d.send(get("/") + get("/more"));
  CHECK(d.output.empty());
  CHECK(d.conn.finished());
  CHECK(d.requests.size() == 1);
}

TEST_CASE("http: an answer asking to close closes after it is written", "[web]") {
  Driver d(HttpLimits{}, [](const HttpRequest&) { return http_error(403, "no", true); });
  d.send(get("/") + get("/more"));
  auto a = d.answers();
  REQUIRE(a.size() == 1);
  CHECK(a[0].status == 403);
  CHECK(a[0].header("connection") == "close");
  CHECK(a[0].body == "403 Forbidden: no\n");
  CHECK(d.conn.finished());
}

TEST_CASE("http: serialize_response writes the length, the cache policy and the extra headers",
          "[web]") {
  HttpResponse r;
  r.status = 404;
  r.content_type = "application/json";
  r.body = "{}";
  r.no_store = false;
  r.headers.emplace_back("Allow", "GET, HEAD");
  const std::string s = serialize_response(r, true, false);
  CHECK(s.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  CHECK(s.find("Content-Length: 2\r\n") != std::string::npos);
  CHECK(s.find("Cache-Control: no-cache\r\n") != std::string::npos);
  CHECK(s.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.find("Allow: GET, HEAD\r\n") != std::string::npos);
  CHECK(s.ends_with("\r\n\r\n{}"));
  CHECK(serialize_response(r, false, true).ends_with("\r\n\r\n"));
  CHECK(http_status_text(431) == "Request Header Fields Too Large");
}
