// An answer's bytes. Every answer, errors included, carries the same
// security headers (docs/web.md, "Headers"): the page loads nothing from
// elsewhere, is never framed, sends no Referer, and the browser never
// guesses a type. No CORS header is ever sent: the API is for the page of
// the same origin and for scripts, never for other sites' pages.
#include <ctime>

#include "dnspc/runtime/web_http.h"

namespace dnspc::runtime {

std::string_view http_status_text(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Unknown";
}

std::string serialize_response(const HttpResponse& r, bool closing, bool head_only) {
  std::string out;
  out.reserve(512 + (head_only ? 0 : r.body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += http_status_text(r.status);
  out += "\r\n";
  // RFC 9110 6.6.1: an origin server with a clock sends Date.
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  out += "Date: ";
  out += date;
  out += "\r\n";
  if (!r.content_type.empty()) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(r.body.size());
  out += "\r\n";
  out +=
      "Content-Security-Policy: default-src 'self'\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "X-Frame-Options: DENY\r\n"
      "Referrer-Policy: no-referrer\r\n";
  out += r.no_store ? "Cache-Control: no-store\r\n" : "Cache-Control: no-cache\r\n";
  if (closing) out += "Connection: close\r\n";
  for (const auto& [name, value] : r.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  if (!head_only) out += r.body;
  return out;
}

HttpResponse http_error(int status, std::string_view detail, bool close) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::to_string(status) + " " + std::string(http_status_text(status));
  if (!detail.empty()) {
    r.body += ": ";
    r.body += detail;
  }
  r.body += '\n';
  r.close = close;
  return r;
}

}  // namespace dnspc::runtime
