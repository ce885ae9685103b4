// Credentials as requests carry them: HTTP Basic (RFC 7617) and the Cookie
// header (RFC 6265), parsed without trusting a byte of either.
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "dnspc/runtime/web_auth.h"
#include "text.h"

namespace dnspc::runtime {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> basic_password(std::string_view authorization) {
  authorization = trim(authorization);
  const size_t space = authorization.find(' ');
  if (space == std::string_view::npos ||
      !equal_ignoring_case(authorization.substr(0, space), "Basic")) {
    return std::nullopt;
  }
  const std::string_view encoded = trim(authorization.substr(space + 1));
  std::vector<unsigned char> raw(encoded.size() / 4 * 3 + 3);
  size_t n = 0;
  if (encoded.empty() ||
      sodium_base642bin(raw.data(), raw.size(), encoded.data(), encoded.size(), nullptr, &n,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  const std::string text(reinterpret_cast<const char*>(raw.data()), n);
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return text.substr(colon + 1);
}

std::string_view cookie_value(std::string_view cookie_header, std::string_view name) {
  for (std::string_view pair : split(cookie_header, ';')) {
    pair = trim(pair);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::string_view value = pair.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return {};
}

}  // namespace dnspc::runtime
