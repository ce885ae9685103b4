// Name tests as one flat hash table: which "qname is X" / "qname is under X"
// tests hold for a query, from one lookup per suffix of its name.
//
// Keys are wire-form names, ASCII lower case, root byte included
// ("\x07example\x03com\x00"). Each key carries two sorted lists of test ids:
//   EXACT  - true only when the whole query name equals the key;
//   SUFFIX - true when the key is a label-aligned suffix of the query name,
//            the name itself included (the apex). The root key "\x00" as a
//            SUFFIX matches every name.
// Label alignment comes for free: the probe only looks up the suffixes that
// start at a label's length byte (label_offsets), so "\x0abadexample\x03com"
// never looks up "example\x03com"-without-its-length-byte.
//
// Memory layout (every reference an index, so each vector can be copied
// verbatim into JIT constant data; hash values depend on the host's byte
// order, see flat_hash.h):
//
//   slots      2 x uint32 per slot, slot count = slot_mask + 1, a power of two
//              >= 8 with load <= 1/2 (so every probe sequence ends at an empty
//              slot). Slot s = { tag, key + 1 }: tag is the high 32 bits of
//              the key's hash, key + 1 == 0 marks an empty slot. Linear
//              probing from hash & slot_mask.
//   key_begin  key_count + 1 offsets into key_bytes: key k's bytes are
//              key_bytes[key_begin[k] .. key_begin[k + 1]).
//   key_bytes  the keys, concatenated (one arena, sorted bytewise).
//   id_begin   2 * key_count + 1 offsets into ids (CSR with two ranges per
//              key): key k's EXACT ids are ids[id_begin[2k] .. id_begin[2k+1]),
//              its SUFFIX ids ids[id_begin[2k+1] .. id_begin[2k+2]). Each range
//              is strictly ascending; an id that is both EXACT and SUFFIX for
//              one key is kept as SUFFIX only (a suffix includes equality).
//   length_mask bit n set when some key is n bytes long; the probe skips a
//              suffix whose length no key has without hashing it.
//
// Memory is O(keys): 8-32 bytes of slots, 4 + 8 bytes of offsets, the name
// bytes and 4 bytes per test id per key. 300k keys of ~20 bytes take ~17 MB.
//
// A probe hashes each suffix of the name (label_count + 1 lookups, each a
// hash over at most 255 bytes and usually one cache line of slots; a tag
// match is confirmed with one memcmp) and merges the matching keys' id lists.
// No allocation, no locks, no virtual calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/flat_hash.h"
#include "dnspc/query_view.h"

namespace dnspc {

enum class NameMode : uint8_t { kExact = 0, kSuffix = 1 };

struct NameIndex {
  uint32_t key_count = 0;
  uint32_t slot_mask = 0;  // slot count - 1; 0 with no slots (an empty, default index)
  std::array<uint64_t, 4> length_mask{};
  std::vector<uint32_t> slots;
  std::vector<uint32_t> key_begin;
  std::vector<uint8_t> key_bytes;
  std::vector<uint32_t> id_begin;
  std::vector<uint32_t> ids;
};

constexpr uint32_t kNoNameKey = 0xffffffffu;

// The key equal to name[0..len), or kNoNameKey. `name` must be lower case.
inline uint32_t name_find(const NameIndex& x, const uint8_t* name, size_t len) {
  if (x.slots.empty()) return kNoNameKey;
  const uint64_t h = flat::hash_bytes(name, len);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  const uint32_t* slots = x.slots.data();
  const uint32_t* begin = x.key_begin.data();
  const uint8_t* bytes = x.key_bytes.data();
  uint32_t s = static_cast<uint32_t>(h) & x.slot_mask;
  for (;;) {
    const uint32_t k1 = slots[2 * s + 1];
    if (k1 == 0) return kNoNameKey;
    if (slots[2 * s] == tag) {
      const uint32_t k = k1 - 1;
      const uint32_t b = begin[k];
      if (begin[k + 1] - b == len && std::memcmp(bytes + b, name, len) == 0) return k;
    }
    s = (s + 1) & x.slot_mask;
  }
}

inline std::span<const uint32_t> name_exact_ids(const NameIndex& x, uint32_t key) {
  const uint32_t b = x.id_begin[2 * key];
  return {x.ids.data() + b, x.id_begin[2 * key + 1] - b};
}

inline std::span<const uint32_t> name_suffix_ids(const NameIndex& x, uint32_t key) {
  const uint32_t b = x.id_begin[2 * key + 1];
  return {x.ids.data() + b, x.id_begin[2 * key + 2] - b};
}

// The ids of every test true for the view's name (qname_lower, label_offsets,
// label_count, qname_length as parse_query fills them): SUFFIX ids of every
// key that is a suffix of the name, EXACT ids of the key equal to the whole
// name. Writes the first `cap` of them, ascending and without repeats, to
// `out` and returns how many there are in all (more than `cap` means `out`
// was too small and holds the smallest `cap`).
uint32_t name_probe(const NameIndex& x, const QueryView& q, uint32_t* out, uint32_t cap);

// The same over a wire-form, lower-case name given as bytes (no view).
// Returns 0 (and writes nothing) when `name` is not a well-formed wire name.
uint32_t name_probe_wire(const NameIndex& x, const uint8_t* name, size_t len, uint32_t* out,
                         uint32_t cap);

class NameIndexBuilder {
 public:
  // Adds test `test_id` for `wire` (wire form with its root byte; a
  // std::string or a "..."sv literal, since "\x00" ends a C string early).
  // ASCII upper case is folded to lower case. Returns nullptr, or why the
  // name is not a well-formed wire name (and adds nothing).
  [[nodiscard]] const char* add(std::string_view wire, NameMode mode, uint32_t test_id);
  [[nodiscard]] const char* add(std::span<const uint8_t> wire, NameMode mode, uint32_t test_id);

  size_t key_count() const { return keys_.size(); }

  // The table; the builder may be reused (it keeps its keys).
  NameIndex build() const;

 private:
  struct Lists {
    std::vector<uint32_t> exact, suffix;
  };
  std::map<std::string, Lists> keys_;  // ordered: build() is deterministic
};

// Probes trust their table; one from anywhere but NameIndexBuilder (a cache,
// a test) is checked first. Returns nullptr when well formed, else what is
// wrong. Walks every key, so O(size).
const char* name_index_check(const NameIndex& x);

// Why `wire[0..len)` is not a well-formed wire name (labels of 1..63 bytes,
// root byte last, at most 255 bytes), or nullptr.
const char* wire_name_error(const uint8_t* wire, size_t len);

}  // namespace dnspc
