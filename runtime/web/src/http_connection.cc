// HttpConnection: libhttp-parser under our limits. The parser's callbacks
// check each limit as the bytes come (a 1 GB header is refused at its 16th
// KiB, not read), and pause the parser at the end of each request so the
// answer is written before the next one is parsed.
#include <http_parser.h>

#include <algorithm>
#include <cctype>

#include "dnspc/runtime/web_http.h"

namespace dnspc::runtime {

namespace {

// Past every limit of ours (request line + headers + their separators), so
// the parser's own bound only catches what our callbacks never see: runs of
// whitespace it skips without reporting.
constexpr uint32_t kParserHeaderBound = 8 * 1024 + 16 * 1024 + 2 * 1024;

// A client that keeps sending while its request is handled gets cut off
// past this (the server stops reading meanwhile, so only a read's worth comes).
constexpr size_t kMaxPending = 128 * 1024;

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

struct HttpConnection::Parser {
  http_parser parser;
  http_parser_settings settings;
  bool in_value = false;  // the last header callback was a value

  explicit Parser(HttpConnection* owner) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = owner;
    http_parser_settings_init(&settings);
    settings.on_message_begin = on_message_begin;
    settings.on_url = on_url;
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
  }

  static HttpConnection& conn(http_parser* p) { return *static_cast<HttpConnection*>(p->data); }

  // Stops the parser with our status; execute() returns at once. -1, not 1:
  // from on_headers_complete, 1 means "no body follows", not an error.
  static int stop(http_parser* p, int status, std::string_view detail) {
    HttpConnection& c = conn(p);
    c.error_status_ = status;
    c.error_detail_ = detail;
    return -1;
  }

  static int on_message_begin(http_parser* p) {
    HttpConnection& c = conn(p);
    c.request_ = HttpRequest{};
    c.header_count_ = c.header_bytes_ = 0;
    c.parser_->in_value = false;
    if (!c.in_request_) {
      c.in_request_ = true;
      c.request_start_ms_ = c.now_ms_;
    }
    return 0;
  }

  static int on_url(http_parser* p, const char* at, size_t n) {
    HttpConnection& c = conn(p);
    if (c.request_.target.size() + n > c.limits_.max_url) {
      return stop(
          p, 414,
          "the request target is longer than " + std::to_string(c.limits_.max_url) + " bytes");
    }
    c.request_.target.append(at, n);
    return 0;
  }

  static int header_bytes(http_parser* p, size_t n) {
    HttpConnection& c = conn(p);
    c.header_bytes_ += n;
    if (c.header_bytes_ > c.limits_.max_header_bytes) {
      return stop(
          p, 431,
          "the headers are larger than " + std::to_string(c.limits_.max_header_bytes) + " bytes");
    }
    return 0;
  }

  static int on_header_field(http_parser* p, const char* at, size_t n) {
    HttpConnection& c = conn(p);
    if (c.header_count_ == 0 || c.parser_->in_value) {
      if (++c.header_count_ > c.limits_.max_headers) {
        return stop(p, 431, "more than " + std::to_string(c.limits_.max_headers) + " headers");
      }
      c.request_.headers.emplace_back();
      c.parser_->in_value = false;
    }
    if (header_bytes(p, n) != 0) return -1;
    std::string& name = c.request_.headers.back().first;
    for (size_t i = 0; i < n; ++i)
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(at[i])));
    return 0;
  }

  static int on_header_value(http_parser* p, const char* at, size_t n) {
    HttpConnection& c = conn(p);
    c.parser_->in_value = true;
    if (header_bytes(p, n) != 0) return -1;
    c.request_.headers.back().second.append(at, n);
    return 0;
  }

  static int on_headers_complete(http_parser* p) {
    HttpConnection& c = conn(p);
    if (p->http_major != 1) return stop(p, 505, "only HTTP/1.0 and HTTP/1.1 are served");
    // CONNECT and Upgrade (WebSocket, h2c) would hand the socket to another
    // protocol; none is served.
    if (p->upgrade) return stop(p, 400, "protocol upgrades and CONNECT are not served");
    c.request_.method = http_method_str(static_cast<http_method>(p->method));
    // Only POSTs carry a body; any other method announcing one is refused
    // rather than read and ignored.
    const bool chunked = (p->flags & F_CHUNKED) != 0;
    const bool has_length = (p->flags & F_CONTENTLENGTH) != 0;
    const bool body = chunked || (has_length && p->content_length > 0);
    if (body && p->method != HTTP_POST) return stop(p, 400, "only POST requests have a body");
    if (has_length && p->content_length > c.limits_.max_body) {
      return stop(p, 413,
                  "the body is larger than " + std::to_string(c.limits_.max_body) + " bytes");
    }
    c.keep_alive_ = http_should_keep_alive(p) != 0 && p->http_minor >= 1;
    c.head_ = p->method == HTTP_HEAD;
    // A client that waits for leave to send its body gets it now (RFC 9110
    // 10.1.1), so it need not wait out its own timer (curl: 1 s).
    if (body && p->http_minor >= 1 && expects_continue(c.request_)) {
      c.output_ += "HTTP/1.1 100 Continue\r\n\r\n";
      c.interim_ = true;
    }
    return 0;
  }

  static bool expects_continue(const HttpRequest& r) {
    for (const auto& [name, value] : r.headers) {
      if (name != "expect" || value.size() != 12) continue;
      bool same = true;
      for (size_t i = 0; i < 12; ++i)
        same = same && std::tolower(static_cast<unsigned char>(value[i])) == "100-continue"[i];
      if (same) return true;
    }
    return false;
  }

  static int on_body(http_parser* p, const char* at, size_t n) {
    HttpConnection& c = conn(p);
    if (c.request_.body.size() + n > c.limits_.max_body) {
      return stop(p, 413,
                  "the body is larger than " + std::to_string(c.limits_.max_body) + " bytes");
    }
    c.request_.body.append(at, n);
    return 0;
  }

  static int on_message_complete(http_parser* p) {
    // The rest waits until this request is answered.
    http_parser_pause(p, 1);
    return 0;
  }
};

HttpConnection::HttpConnection(const HttpLimits& limits, Handler handler, uint64_t now_ms)
    : limits_(limits), handler_(std::move(handler)), now_ms_(now_ms), idle_since_ms_(now_ms) {
  // Process-wide in libhttp-parser; every connection sets the same value.
  http_parser_set_max_header_size(kParserHeaderBound);
  parser_ = std::make_unique<Parser>(this);
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::feed(std::string_view bytes, uint64_t now_ms) {
  now_ms_ = now_ms;
  if (closing_ || bytes.empty()) return;
  if (handling_ || writing_ || !output_.empty() || !pending_.empty()) {
    if (pending_.size() + bytes.size() > kMaxPending) {
      closing_ = true;  // reading on while told not to: no more of this client
      pending_.clear();
      if (!handling_ && !writing_ && output_.empty()) closed_ = true;
      return;
    }
    pending_.append(bytes);
    return;
  }
  parse(bytes);
}

void HttpConnection::parse(std::string_view bytes) {
  http_parser& p = parser_->parser;
  if (!in_request_) {
    // Empty lines between requests are skipped by the parser without a
    // callback; a request starts with its first other byte.
    size_t skip = bytes.find_first_not_of("\r\n");
    if (skip == std::string_view::npos) return;
    in_request_ = true;
    request_start_ms_ = now_ms_;
  }
  const size_t n = http_parser_execute(&p, &parser_->settings, bytes.data(), bytes.size());
  const http_errno err = HTTP_PARSER_ERRNO(&p);
  if (err == HPE_PAUSED) {
    http_parser_pause(&p, 0);
    pending_.assign(bytes.substr(n));
    in_request_ = false;
    handling_ = true;
    handler_(request_);
    return;
  }
  if (err != HPE_OK) {
    if (error_status_ != 0) return fail(error_status_, error_detail_);
    if (err == HPE_HEADER_OVERFLOW) return fail(431, "the request line and headers are too large");
    return fail(400, http_errno_description(err));
  }
}

void HttpConnection::fail(int status, std::string_view detail) {
  pending_.clear();
  in_request_ = false;
  head_ = false;
  handling_ = true;  // as if answering a request: respond() does the rest
  respond(http_error(status, detail, true));
}

void HttpConnection::respond(HttpResponse response) {
  if (!handling_ || closed_) return;
  handling_ = false;
  interim_ = false;  // the final answer follows the 100 in the same output
  if (response.drop) {
    closing_ = true;
    pending_.clear();
    if (!writing_ && output_.empty()) closed_ = true;
    return;
  }
  ++answered_;
  const bool close = response.close || !keep_alive_ || closing_;
  output_ += serialize_response(response, close, head_);
  if (close) {
    closing_ = true;
    pending_.clear();
  }
}

std::string HttpConnection::take_output() {
  if (output_.empty() || writing_) return {};
  writing_ = true;
  write_start_ms_ = now_ms_;
  return std::move(output_);
}

void HttpConnection::written(uint64_t now_ms) {
  now_ms_ = now_ms;
  writing_ = false;
  output_.clear();
  if (interim_) {
    // Only the 100 went out: the request goes on (its body may be waiting).
    interim_ = false;
    resume();
    return;
  }
  if (closing_) {
    closed_ = true;
    return;
  }
  idle_since_ms_ = now_ms;
  keep_alive_ = true;
  head_ = false;
  resume();
}

void HttpConnection::resume() {
  if (pending_.empty() || handling_ || writing_ || closing_) return;
  std::string bytes = std::move(pending_);
  pending_.clear();
  parse(bytes);
}

void HttpConnection::tick(uint64_t now_ms) {
  now_ms_ = now_ms;
  const uint64_t deadline = deadline_ms();
  if (deadline == 0 || now_ms < deadline) return;
  if (writing_ || closing_ || !in_request_) {
    // Idle, or an answer the client does not read: nothing more to say.
    closing_ = true;
    closed_ = true;
    output_.clear();
    pending_.clear();
    return;
  }
  fail(408, "the request did not arrive in time");
}

uint64_t HttpConnection::deadline_ms() const {
  if (closed_) return 0;
  if (writing_) return write_start_ms_ + limits_.idle_timeout_ms;
  if (handling_ || !output_.empty()) return 0;  // the answer is on its way
  if (closing_) return now_ms_;                 // nothing left to do
  if (in_request_) return request_start_ms_ + limits_.request_timeout_ms;
  return idle_since_ms_ + limits_.idle_timeout_ms;
}

bool HttpConnection::wants_input() const {
  return !closing_ && !handling_ && !writing_ && output_.empty() && pending_.empty();
}

bool HttpConnection::finished() const {
  return closed_;
}

}  // namespace dnspc::runtime
