// URL pieces: percent-decoding, query strings, the target's path and query.
#include "dnspc/runtime/web_routes.h"
#include "text.h"

namespace dnspc::runtime {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> url_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out += c;
  }
  return out;
}

bool parse_query_string(std::string_view query, QueryParams& out, std::string& error) {
  out.clear();
  for (std::string_view item : split(query, '&')) {
    if (item.empty()) continue;  // "a=1&&b=2", or no query at all
    const size_t eq = item.find('=');
    auto name = url_decode(item.substr(0, eq), true);
    auto value =
        url_decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
    if (!name || !value) {
      error = "a malformed %-escape in the query string";
      return false;
    }
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return true;
}

bool split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  if (const size_t scheme = target.find("://");
      scheme != std::string_view::npos && target[0] != '/') {
    const size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.empty() || target[0] != '/') return false;
  target = target.substr(0, target.find('#'));
  const size_t q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  return true;
}

}  // namespace dnspc::runtime
