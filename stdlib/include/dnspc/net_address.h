// An IPv4 or IPv6 address with a port, laid out for compiled code to read:
// IPv4 addresses occupy the first four bytes, so one LPM walk serves both
// families without conversions.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace dnspc {

enum class AddressFamily : uint8_t { kNone = 0, kIPv4 = 4, kIPv6 = 6 };

struct NetAddress {
  AddressFamily family = AddressFamily::kNone;
  uint8_t reserved = 0;
  uint16_t port = 0;    // host byte order
  uint8_t bytes[16]{};  // network byte order; IPv4 uses bytes[0..3]

  static NetAddress ipv4(const uint8_t (&b)[4], uint16_t port = 0);
  static NetAddress ipv6(const uint8_t (&b)[16], uint16_t port = 0);

  // Parses "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53". A bare IPv6 address
  // never takes a port (the last group would be ambiguous).
  static std::optional<NetAddress> parse(std::string_view text, uint16_t default_port = 0);
  static NetAddress from_sockaddr(const sockaddr* sa);

  // Fills `out` and returns its length for bind/connect/sendto.
  unsigned to_sockaddr(sockaddr_storage& out) const;
  std::string to_string(bool with_port = true) const;

  bool is_v4() const { return family == AddressFamily::kIPv4; }
  bool is_v6() const { return family == AddressFamily::kIPv6; }
  unsigned byte_length() const { return is_v4() ? 4 : is_v6() ? 16 : 0; }

  // Same host and port, for matching backend answers to their server.
  friend bool operator==(const NetAddress& a, const NetAddress& b) {
    return a.family == b.family && a.port == b.port &&
           std::memcmp(a.bytes, b.bytes, a.byte_length()) == 0;
  }
};

static_assert(sizeof(NetAddress) == 20, "NetAddress layout is read by compiled code");

}  // namespace dnspc
