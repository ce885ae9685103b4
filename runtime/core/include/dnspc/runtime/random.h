// Random numbers for the data path.
//
// BufferedRandom: query IDs and source-socket choices must be unpredictable
// (cache poisoning), so they come from the kernel's CSPRNG, read with
// getrandom(2) into a 4 KiB buffer: one syscall per 2048 IDs, not one per
// query. Each worker owns one; nothing is shared.
//
// FastRandom: wyrand, seeded from the CSPRNG, for choices that need no
// secrecy (weighted_random).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dnspc::runtime {

class BufferedRandom {
 public:
  static constexpr size_t kBufferSize = 4096;

  uint16_t u16() {
    uint16_t v;
    take(&v, sizeof v);
    return v;
  }
  uint32_t u32() {
    uint32_t v;
    take(&v, sizeof v);
    return v;
  }
  uint64_t u64() {
    uint64_t v;
    take(&v, sizeof v);
    return v;
  }
  // How many times the buffer was refilled (one getrandom call each).
  uint64_t refills() const { return refills_; }

 private:
  void take(void* out, size_t n) {
    if (pos_ + n > kBufferSize) refill();
    std::memcpy(out, buf_ + pos_, n);
    pos_ += n;
  }
  void refill();

  uint8_t buf_[kBufferSize];
  size_t pos_ = kBufferSize;
  uint64_t refills_ = 0;
};

class FastRandom {
 public:
  explicit FastRandom(uint64_t seed = 1) : s_(seed) {}
  uint64_t next() {
    s_ += 0xa0761d6478bd642full;
    __uint128_t m = static_cast<__uint128_t>(s_) * (s_ ^ 0xe7037ed1a0b428dbull);
    return static_cast<uint64_t>(m >> 64) ^ static_cast<uint64_t>(m);
  }

 private:
  uint64_t s_;
};

}  // namespace dnspc::runtime
