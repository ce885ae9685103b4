// Address tests as flat hash tables: which "source in PREFIX-SET" tests hold
// for an address. Unlike a routing lookup, the probe reports every test whose
// prefix contains the address, not only the longest, since each test is a
// predicate of its own.
//
// Design: per family, one open-addressing hash table per prefix length that
// occurs, keyed by the address masked to that length. A probe masks the
// address once per present length and looks it up; policies use few distinct
// lengths (/8, /16, /24, /32, /48, /64 ...), so that is a few lookups, each
// usually one cache line.
//
// Memory layout (indices only, so each vector can be copied verbatim into
// JIT constant data; hash values depend on the host's byte order):
//
//   v4_tables, v6_tables  one PrefixTable per prefix length present, in
//              ascending length. Addresses are handled as 32-bit words, word j
//              holding bytes 4j..4j+3 big-endian (so bit masks are shifts):
//              mask[j] is the prefix's netmask for word j (IPv4 uses word 0).
//              A table owns slots [slot_begin, slot_begin + slot_mask + 1) of
//              its family's slot array; its slot count is a power of two >= 8
//              with load <= 1/2, so every probe sequence ends at an empty
//              slot. Linear probing from hash & slot_mask.
//   v4_slots   2 x uint32 per slot: { masked address word, group + 1 }.
//   v6_slots   5 x uint32 per slot: { masked words 0..3, group + 1 }.
//              group + 1 == 0 marks an empty slot (address 0 is a valid key).
//   group_begin  groups + 1 offsets into ids: the test ids of one (family,
//              length, masked address) are ids[group_begin[g] ..
//              group_begin[g + 1]), strictly ascending.
//
// Memory is O(prefixes): 16-40 bytes of slots (v4) or 40-100 (v6), plus
// 4 bytes per group and per test id. /0 is a table with one key (0), so it
// matches every address of its family. Addresses of family kNone match
// nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <type_traits>
#include <vector>

#include "dnspc/flat_hash.h"
#include "dnspc/net_address.h"

namespace dnspc {

struct PrefixTable {
  uint32_t prefix_len = 0;  // 0..32 (IPv4) or 0..128 (IPv6)
  uint32_t slot_begin = 0;  // first slot (not word) in the family's slot array
  uint32_t slot_mask = 0;   // slot count - 1
  uint32_t mask[4] = {0, 0, 0, 0};
};
static_assert(sizeof(PrefixTable) == 28 && std::is_trivially_copyable_v<PrefixTable>,
              "PrefixTable is copied into JIT constant data");

struct PrefixIndex {
  std::vector<PrefixTable> v4_tables;
  std::vector<PrefixTable> v6_tables;
  std::vector<uint32_t> v4_slots;
  std::vector<uint32_t> v6_slots;
  std::vector<uint32_t> group_begin;
  std::vector<uint32_t> ids;
};

constexpr uint32_t kPrefixV4SlotWords = 2;
constexpr uint32_t kPrefixV6SlotWords = 5;

// Word j of an address: bytes 4j..4j+3, big-endian.
inline uint32_t address_word(const uint8_t* bytes, unsigned j) {
  const uint8_t* p = bytes + 4 * j;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// The netmask of a prefix of `len` bits for word j.
inline uint32_t prefix_word_mask(unsigned len, unsigned j) {
  const unsigned lo = 32 * j;
  if (len <= lo) return 0;
  if (len >= lo + 32) return 0xffffffffu;
  return 0xffffffffu << (32 - (len - lo));
}

// The group of test ids for the masked key in table `t`, or -1 (as uint32).
inline uint32_t prefix_find_v4(const PrefixIndex& x, const PrefixTable& t, uint32_t key) {
  const uint32_t* slots = x.v4_slots.data() + size_t{t.slot_begin} * kPrefixV4SlotWords;
  uint32_t s = static_cast<uint32_t>(flat::hash_word(key)) & t.slot_mask;
  for (;;) {
    const uint32_t* slot = slots + size_t{s} * kPrefixV4SlotWords;
    const uint32_t g1 = slot[1];
    if (g1 == 0) return 0xffffffffu;
    if (slot[0] == key) return g1 - 1;
    s = (s + 1) & t.slot_mask;
  }
}

inline uint32_t prefix_find_v6(const PrefixIndex& x, const PrefixTable& t, const uint32_t* key) {
  const uint32_t* slots = x.v6_slots.data() + size_t{t.slot_begin} * kPrefixV6SlotWords;
  uint32_t s = static_cast<uint32_t>(flat::hash_words4(key)) & t.slot_mask;
  for (;;) {
    const uint32_t* slot = slots + size_t{s} * kPrefixV6SlotWords;
    const uint32_t g1 = slot[4];
    if (g1 == 0) return 0xffffffffu;
    if (((slot[0] ^ key[0]) | (slot[1] ^ key[1]) | (slot[2] ^ key[2]) | (slot[3] ^ key[3])) == 0) {
      return g1 - 1;
    }
    s = (s + 1) & t.slot_mask;
  }
}

// The ids of every test with a prefix that contains `a`, ascending and
// without repeats: writes the first `cap` to `out` and returns how many there
// are in all (more than `cap` means `out` was too small). The port is ignored.
uint32_t prefix_probe(const PrefixIndex& x, const NetAddress& a, uint32_t* out, uint32_t cap);

class PrefixIndexBuilder {
 public:
  // Adds test `test_id` for `address`/`prefix_len`; host bits of the address
  // are ignored. Returns nullptr, or why the prefix is unusable (no family,
  // length past 32 / 128), adding nothing.
  [[nodiscard]] const char* add(const NetAddress& address, unsigned prefix_len, uint32_t test_id);

  size_t prefix_count() const { return groups_.size(); }

  PrefixIndex build() const;

 private:
  // (family, length, masked words) -> ids; ordered, so build() is deterministic.
  struct Key {
    uint8_t family;
    uint8_t len;
    std::array<uint32_t, 4> words;
    auto operator<=>(const Key&) const = default;
  };
  std::map<Key, std::vector<uint32_t>> groups_;
};

// Probes trust their table; one from anywhere but PrefixIndexBuilder is
// checked first. Returns nullptr when well formed, else what is wrong.
const char* prefix_index_check(const PrefixIndex& x);

}  // namespace dnspc
