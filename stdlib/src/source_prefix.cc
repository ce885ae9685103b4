#include "dnspc/source_prefix.h"

namespace dnspc {

SourcePrefix SourcePrefix::of(const NetAddress& source, uint8_t v4_length, uint8_t v6_length) {
  SourcePrefix p;
  p.family = source.family;
  const unsigned max = source.is_v4() ? 32 : source.is_v6() ? 128 : 0;
  unsigned bits = source.is_v4() ? v4_length : v6_length;
  if (bits > max) bits = max;
  p.length = static_cast<uint8_t>(bits);
  for (unsigned i = 0; i < bits / 8; ++i) p.bytes[i] = source.bytes[i];
  if (bits % 8)
    p.bytes[bits / 8] = static_cast<uint8_t>(source.bytes[bits / 8] & (0xff << (8 - bits % 8)));
  return p;
}

uint64_t SourcePrefix::hash() const {
  uint64_t a, b;
  std::memcpy(&a, bytes, 8);
  std::memcpy(&b, bytes + 8, 8);
  // Two rounds of a 64-bit multiply-xorshift mix: cheap, and every input bit
  // reaches the low bits a power-of-two table uses.
  uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + (static_cast<uint64_t>(family) << 8 | length));
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

bool SourcePrefix::contains(const NetAddress& address) const {
  if (address.family != family) return false;
  return of(address, length, length) == *this;
}

std::string SourcePrefix::to_string() const {
  NetAddress a;
  a.family = family;
  std::memcpy(a.bytes, bytes, 16);
  return a.to_string(false) + "/" + std::to_string(length);
}

}  // namespace dnspc
