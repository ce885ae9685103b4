// Per-source-prefix QPS bounds, shared by all workers: a fixed array of
// GCRA buckets indexed by a hash of the source prefix. Memory is fixed at
// construction whatever the traffic, and there is no lock: a bucket is one
// atomic. Prefixes that collide share a bucket, which can only make the bound
// stricter for them: spraying queries from many sources never buys an
// abuser a fresh bucket, it only fills ones already counting against it.
// (The shaping issue may refine this; the contract stays: bounded memory,
// no escape.)
#pragma once

#include <cstdint>
#include <memory>

#include "dnspc/net_address.h"
#include "dnspc/rate_limiter.h"

namespace dnspc {

class SourceRateTable {
 public:
  // `capacity` is rounded up to a power of two.
  SourceRateTable(RateSpec spec, uint8_t v4_prefix, uint8_t v6_prefix, uint32_t capacity);

  // True when the source (grouped by prefix) conforms and took a token.
  bool try_take(const NetAddress& source, uint64_t now_ns);

  uint32_t capacity() const { return mask_ + 1; }
  const RateSpec& spec() const { return spec_; }
  // The bucket a source maps to (for tests and state carried over reloads).
  uint32_t slot(const NetAddress& source) const;
  RateLimiter& bucket(uint32_t slot) { return buckets_[slot]; }

 private:
  RateSpec spec_;
  uint8_t v4_prefix_, v6_prefix_;
  uint32_t mask_;
  std::unique_ptr<RateLimiter[]> buckets_;
};

}  // namespace dnspc
