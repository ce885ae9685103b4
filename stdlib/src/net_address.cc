#include "dnspc/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>

namespace dnspc {

NetAddress NetAddress::ipv4(const uint8_t (&b)[4], uint16_t port) {
  NetAddress a;
  a.family = AddressFamily::kIPv4;
  a.port = port;
  std::memcpy(a.bytes, b, 4);
  return a;
}

NetAddress NetAddress::ipv6(const uint8_t (&b)[16], uint16_t port) {
  NetAddress a;
  a.family = AddressFamily::kIPv6;
  a.port = port;
  std::memcpy(a.bytes, b, 16);
  return a;
}

namespace {

std::optional<uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::optional<NetAddress> parse_host(std::string_view host, uint16_t port) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (host.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = 0;
  uint8_t b6[16];
  if (host.find(':') == std::string_view::npos) {
    uint8_t b4[4];
    if (inet_pton(AF_INET, buf, b4) == 1) return NetAddress::ipv4(b4, port);
  } else if (inet_pton(AF_INET6, buf, b6) == 1) {
    return NetAddress::ipv6(b6, port);
  }
  return std::nullopt;
}

}  // namespace

std::optional<NetAddress> NetAddress::parse(std::string_view text, uint16_t default_port) {
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    uint16_t port = default_port;
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      auto p = parse_port(rest.substr(1));
      if (!p) return std::nullopt;
      port = *p;
    }
    auto a = parse_host(text.substr(1, close - 1), port);
    if (!a || !a->is_v6()) return std::nullopt;
    return a;
  }
  size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    auto p = parse_port(text.substr(colon + 1));
    if (!p) return std::nullopt;
    return parse_host(text.substr(0, colon), *p);
  }
  return parse_host(text, default_port);
}

NetAddress NetAddress::from_sockaddr(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
    uint8_t b[4];
    std::memcpy(b, &s4->sin_addr, 4);
    return ipv4(b, ntohs(s4->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
    uint8_t b[16];
    std::memcpy(b, &s6->sin6_addr, 16);
    return ipv6(b, ntohs(s6->sin6_port));
  }
  return NetAddress{};
}

unsigned NetAddress::to_sockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof out);
  if (is_v4()) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&out);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    std::memcpy(&s4->sin_addr, bytes, 4);
    return sizeof(sockaddr_in);
  }
  if (is_v6()) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&out);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    std::memcpy(&s6->sin6_addr, bytes, 16);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

std::string NetAddress::to_string(bool with_port) const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    inet_ntop(AF_INET, bytes, buf, sizeof buf);
    return with_port ? std::string(buf) + ":" + std::to_string(port) : std::string(buf);
  }
  if (is_v6()) {
    inet_ntop(AF_INET6, bytes, buf, sizeof buf);
    return with_port ? "[" + std::string(buf) + "]:" + std::to_string(port) : std::string(buf);
  }
  return "none";
}

}  // namespace dnspc
