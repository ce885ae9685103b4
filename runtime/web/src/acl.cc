// web_acl: a handful of prefixes, checked by a loop (no index needed).
#include <cstring>

#include "dnspc/runtime/web_app.h"

namespace dnspc::runtime {

NetAddress unmap_v4(const NetAddress& a) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!a.is_v6() || std::memcmp(a.bytes, kMapped, sizeof kMapped) != 0) return a;
  const uint8_t v4[4] = {a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]};
  return NetAddress::ipv4(v4, a.port);
}

bool acl_allows(const std::vector<Prefix>& acl, const NetAddress& client) {
  const NetAddress c = unmap_v4(client);
  for (const Prefix& p : acl) {
    if (p.address.family != c.family) continue;
    const unsigned full = p.length / 8, rest = p.length % 8;
    if (std::memcmp(p.address.bytes, c.bytes, full) != 0) continue;
    if (rest) {
      const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((p.address.bytes[full] & mask) != (c.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

}  // namespace dnspc::runtime
