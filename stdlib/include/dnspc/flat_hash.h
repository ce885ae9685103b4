// Hashing shared by the flat lookup tables (name_index.h, prefix_index.h).
//
// The tables are open-addressing hash tables with linear probing over a
// power-of-two slot array, so the slot is `hash & mask` and the hash must mix
// well into its low bits. The choice here:
//
// - Byte strings (names): word-at-a-time multiply-xorshift. The length seeds
//   the state; each 8-byte word (native byte order, read with memcpy so any
//   alignment is fine) is folded in as h = (h ^ w) * K; h ^= h >> 32, and the
//   tail (0..7 bytes) is read as one zero-extended word with at most three
//   loads (4, 2, 1 bytes). The murmur3 64-bit finaliser (mix64) then
//   avalanches every input bit into every output bit. A 20-byte name costs
//   three multiplies plus the finaliser, about a third of byte-at-a-time
//   FNV-1a, and, unlike FNV-1a, the low bits the slot index uses depend on
//   every byte.
// - Fixed-size integer keys (addresses): mix64 of the key words.
//
// Words are read in native byte order, so hash values (and therefore slot
// positions) are specific to the host's endianness, like the JIT code that
// embeds the tables. Not a keyed hash: the keys come from the policy, not
// from the network, and a probe with hostile input only chooses which
// (bounded) probe sequence it walks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dnspc::flat {

constexpr uint64_t kMulA = 0x9e3779b97f4a7c15ull;  // 2^64 / golden ratio (odd)
constexpr uint64_t kMulB = 0xff51afd7ed558ccdull;  // murmur3 fmix64 constants
constexpr uint64_t kMulC = 0xc4ceb9fe1a85ec53ull;

// murmur3's 64-bit finaliser: a bijection with full avalanche.
inline uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= kMulB;
  h ^= h >> 33;
  h *= kMulC;
  h ^= h >> 33;
  return h;
}

inline uint64_t hash_bytes(const uint8_t* p, size_t n) {
  uint64_t h = (static_cast<uint64_t>(n) + 1) * kMulA;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMulA;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  // Tail: 0..7 bytes as one word; no byte read past p + n.
  uint64_t w = 0;
  unsigned shift = 0;
  if (n & 4) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    w = x;
    shift = 32;
    p += 4;
  }
  if (n & 2) {
    uint16_t x;
    std::memcpy(&x, p, 2);
    w |= static_cast<uint64_t>(x) << shift;
    shift += 16;
    p += 2;
  }
  if (n & 1) w |= static_cast<uint64_t>(*p) << shift;
  h = (h ^ w) * kMulA;
  return mix64(h);
}

// Four 32-bit words (an IPv6 address, or an IPv4 address with three zeros).
inline uint64_t hash_words4(const uint32_t* w) {
  const uint64_t hi = (static_cast<uint64_t>(w[0]) << 32) | w[1];
  const uint64_t lo = (static_cast<uint64_t>(w[2]) << 32) | w[3];
  return mix64(mix64(hi) ^ (lo * kMulA));
}

inline uint64_t hash_word(uint32_t w) { return mix64(static_cast<uint64_t>(w) * kMulA + 1); }

// The slot count for `keys` entries: a power of two, at least 8, with the
// load factor at most 1/2 (so a miss walks about 2.5 slots on average and
// every probe sequence ends at an empty slot).
inline uint32_t slot_count_for(size_t keys) {
  uint64_t n = 8;
  while (n < 2 * static_cast<uint64_t>(keys)) n <<= 1;
  return static_cast<uint32_t>(n);
}

}  // namespace dnspc::flat
