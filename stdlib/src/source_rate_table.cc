#include "dnspc/source_rate_table.h"

namespace dnspc {

SourceRateTable::SourceRateTable(RateSpec spec, uint8_t v4_prefix, uint8_t v6_prefix, uint32_t capacity)
    : spec_(spec), v4_prefix_(v4_prefix), v6_prefix_(v6_prefix) {
  uint32_t n = 1;
  while (n < capacity && n < (1u << 30)) n <<= 1;
  mask_ = n - 1;
  buckets_ = std::make_unique<RateLimiter[]>(n);
}

uint32_t SourceRateTable::slot(const NetAddress& source) const {
  unsigned bits = source.is_v6() ? v6_prefix_ : v4_prefix_;
  // FNV-1a over the family and the prefix's bytes, host bits cleared.
  uint64_t h = 1469598103934665603ull ^ static_cast<uint8_t>(source.family);
  h *= 1099511628211ull;
  for (unsigned i = 0; i < (bits + 7) / 8; ++i) {
    uint8_t b = source.bytes[i];
    if (bits < (i + 1) * 8) b &= static_cast<uint8_t>(0xff << ((i + 1) * 8 - bits));
    h = (h ^ b) * 1099511628211ull;
  }
  h ^= h >> 29;
  return static_cast<uint32_t>(h) & mask_;
}

bool SourceRateTable::try_take(const NetAddress& source, uint64_t now_ns) {
  return buckets_[slot(source)].try_take(spec_, now_ns);
}

}  // namespace dnspc
