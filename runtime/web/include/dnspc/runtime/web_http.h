// HTTP/1.1 on one connection, without a socket: bytes in (feed), requests
// out (the handler), answers in (respond), bytes out (take_output), and the
// timeouts on a clock the caller gives. The web server (web.h) moves the
// bytes with libuv; the unit tests and the fuzz target drive it directly.
//
// One request at a time: once a request is complete, nothing more is parsed
// until its answer has been written (written()), so a client that pipelines
// or never reads its answers holds at most one read's worth of input and one
// answer. Every limit (HttpLimits) ends in an answer with its status and
// the connection's close: 400 malformed, 408 too slow, 413 body too large,
// 414 URL too long, 431 too many or too large headers, 505 not HTTP/1.x.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dnspc::runtime {

struct HttpLimits {
  size_t max_url = 8 * 1024;             // the request target; past it: 414
  size_t max_headers = 64;               // past it: 431
  size_t max_header_bytes = 16 * 1024;   // names and values together; past it: 431
  size_t max_body = 64 * 1024;           // only POSTs have one; past it: 413
  uint64_t request_timeout_ms = 10'000;  // first byte to the end of the request; past it: 408
  uint64_t idle_timeout_ms = 30'000;     // keep-alive between requests, and writing an answer
};

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as sent: "/api/v1/rules?limit=5"
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  // The first header of that name (lower case), or null.
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no Content-Type (a 401 has no body)
  std::vector<std::pair<std::string, std::string>> headers;  // beyond those every answer gets
  std::string body;
  bool no_store = true;  // Cache-Control: no-store; false: no-cache (the page's files)
  bool close = false;    // close the connection once written
  bool drop = false;     // no answer at all: close at once (a client outside web_acl)
};

// The status line's text ("Not Found").
std::string_view http_status_text(int status);

// The bytes of an answer: the status line, the headers every answer gets
// (Content-Length, the security headers, Cache-Control, Connection: close
// when closing), its own headers, then the body unless `head_only`.
std::string serialize_response(const HttpResponse& r, bool closing, bool head_only);

// A short text/plain answer for an error (the status line's text and `detail`),
// closing the connection when `close`.
HttpResponse http_error(int status, std::string_view detail, bool close);

class HttpConnection {
 public:
  // Called with each complete request; its answer comes through respond(),
  // now or later.
  using Handler = std::function<void(const HttpRequest&)>;

  HttpConnection(const HttpLimits& limits, Handler handler, uint64_t now_ms);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Bytes from the client. While a request waits for its answer they are
  // kept (the caller should stop reading: wants_input()).
  void feed(std::string_view bytes, uint64_t now_ms);
  // The answer to the request the handler was given.
  void respond(HttpResponse response);
  // The bytes to write now (empty: none). Once taken, call written() when
  // they are out; no more is parsed meanwhile.
  std::string take_output();
  void written(uint64_t now_ms);
  // Runs the timeouts: 408 for a request too slow, a silent close when idle
  // or when the client does not read its answer.
  void tick(uint64_t now_ms);

  // When tick() has something to do (0: never).
  uint64_t deadline_ms() const;
  // Whether the socket should read: no request waits for its answer, no
  // answer is being written, nothing has failed.
  bool wants_input() const;
  // Everything owed is written (or nothing will be): close the socket.
  bool finished() const;
  // Requests answered so far (tests).
  uint64_t answered() const { return answered_; }

 private:
  struct Parser;
  void parse(std::string_view bytes);
  void fail(int status, std::string_view detail);
  void resume();

  HttpLimits limits_;
  Handler handler_;
  std::unique_ptr<Parser> parser_;
  HttpRequest request_;
  std::string pending_;  // bytes that came while a request was handled
  std::string output_;
  uint64_t now_ms_ = 0;
  uint64_t idle_since_ms_ = 0;     // the last answer written (or the accept)
  uint64_t request_start_ms_ = 0;  // the current request's first byte
  uint64_t write_start_ms_ = 0;
  uint64_t answered_ = 0;
  size_t header_count_ = 0, header_bytes_ = 0;
  bool in_request_ = false;  // a request's first byte came, not yet its end
  bool handling_ = false;    // the handler has a request, its answer not given yet
  bool writing_ = false;     // output taken, written() not called yet
  bool keep_alive_ = true;   // of the request being handled
  bool head_ = false;        // the request being handled is a HEAD
  bool closing_ = false;     // no more requests: close once the output is written
  bool closed_ = false;      // nothing more to write either
  bool interim_ = false;     // the output is a 100 Continue: the request goes on after it
  int error_status_ = 0;     // set by a parser callback that stopped the parser
  std::string error_detail_;
};

}  // namespace dnspc::runtime
