// A client's source address cut to a prefix (`per src/24/56`): the key by
// which dynamic blocks count and block clients. Plain bytes, hashable without
// allocating, so the packet path can build one per query.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "dnspc/net_address.h"

namespace dnspc {

struct SourcePrefix {
  uint8_t bytes[16]{};  // host bits cleared; IPv4 in bytes[0..3]
  AddressFamily family = AddressFamily::kNone;
  uint8_t length = 0;

  // `source` cut to v4_length or v6_length bits, whichever its family takes.
  static SourcePrefix of(const NetAddress& source, uint8_t v4_length, uint8_t v6_length);

  uint64_t hash() const;
  bool contains(const NetAddress& address) const;
  std::string to_string() const;  // "192.0.2.0/24", "2001:db8::/48"

  friend bool operator==(const SourcePrefix& a, const SourcePrefix& b) {
    return a.family == b.family && a.length == b.length && std::memcmp(a.bytes, b.bytes, 16) == 0;
  }
};

}  // namespace dnspc
