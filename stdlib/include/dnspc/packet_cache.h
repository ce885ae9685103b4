// The packet cache's store: answers by key, shared by every worker, in memory
// fixed when it is made (docs/cache.md).
//
// Buckets of 8 slots; a key's bucket comes from its 64-bit hash, and the
// bucket's 8 hash tags sit in one cache line, so a lookup reads one line
// and then, for a tag that matches, one slot. Each slot is a seqlock over
// 64-bit words: readers never write anything but a "referenced" byte, never
// wait, and compare the whole key (a hash collision is a miss, counted,
// never a wrong answer). A writer takes a slot with one compare-and-swap
// and gives up at once when another writer holds it (an insert failure,
// counted by the caller): inserts never block the packet path. A full
// bucket evicts by CLOCK (second chance): hits set a slot's referenced
// byte, the bucket's hand clears it as it passes, and the first slot not
// referenced since is replaced, so hot names stay under a flood of new ones.
//
// The store knows nothing of DNS: keys and answers are bytes (cache_wire.h
// makes both). Times are the caller's monotonic nanoseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace dnspc {

// Key bytes: at most 264 (flags, type, class, name length, a 255-byte name),
// zero-padded to whole words so comparison is word by word.
constexpr size_t kCacheKeyMax = 264;

struct CacheKey {
  uint64_t hash = 0;  // PacketCache::hash_key() of the bytes
  uint16_t size = 0;  // bytes used
  alignas(8) uint8_t bytes[kCacheKeyMax]{};
};

enum class CacheFind : uint8_t {
  kMiss,   // nothing under the key (or its slot was being written)
  kFresh,  // within its lifetime: `out` holds the answer
  kStale,  // past its lifetime, within its stale window: `out` holds the answer
};

struct CacheLookup {
  CacheFind result = CacheFind::kMiss;
  bool collision = false;  // a slot had the key's hash tag but another key
  uint32_t size = 0;       // answer bytes written to `out`
  uint64_t age_ns = 0;     // since it was stored
};

enum class CacheStore : uint8_t {
  kStored,    // into a free or dead slot, or over the same key
  kEvicted,   // a live entry of another key made room
  kBusy,      // another writer held the slot: not stored
  kTooLarge,  // over the entry size: not stored
};

class PacketCache {
 public:
  // `entries` (rounded up to a multiple of 8) answers of up to `entry_size`
  // bytes each. The memory is mapped at once (see memory_bytes()); pages
  // are zero until first written. `seed` keys the hash (clients choose the
  // names: a fixed hash would let them aim at one bucket).
  PacketCache(uint32_t entries, uint32_t entry_size, uint64_t seed);
  ~PacketCache();
  PacketCache(const PacketCache&) = delete;
  PacketCache& operator=(const PacketCache&) = delete;

  // Sets key.hash from key.bytes[0..size) (the rest must be zero).
  void hash_key(CacheKey& key) const;

  // Copies the answer under `key` to `out` (at least entry_size() + 8 bytes).
  // Stale entries come back as kStale only when `stale_wanted`.
  CacheLookup lookup(const CacheKey& key, uint64_t now_ns, bool stale_wanted, uint8_t* out) const;

  // Stores `answer` under `key`, fresh for `lifetime_ns`, then stale for
  // `stale_ns` more.
  CacheStore insert(const CacheKey& key, const uint8_t* answer, size_t size, uint64_t now_ns,
                    uint64_t lifetime_ns, uint64_t stale_ns);

  // Removes every entry whose key bytes `match` says; returns how many. Off
  // the packet path (the control thread): it reads every slot.
  uint64_t purge(const std::function<bool(const uint8_t* key, size_t size)>& match);

  // Slots holding an entry (fresh, stale or expired but not yet replaced).
  uint64_t used() const;
  uint32_t capacity() const { return slots_; }
  uint32_t entry_size() const { return entry_size_; }
  size_t memory_bytes() const { return bytes_; }

 private:
  uint64_t* slot(uint32_t index) const { return words_ + static_cast<size_t>(index) * stride_; }
  bool key_equal(const uint64_t* s, const CacheKey& key) const;

  uint32_t slots_ = 0, buckets_ = 0, entry_size_ = 0;
  size_t stride_ = 0;  // words per slot
  uint64_t seed_ = 0;
  size_t bytes_ = 0;
  void* map_ = nullptr;
  uint64_t* tags_ = nullptr;   // 8 per bucket, one cache line; 0: empty
  uint64_t* words_ = nullptr;  // slots
  uint8_t* refs_ = nullptr;    // per slot: hit since the hand last passed
  uint8_t* hands_ = nullptr;   // per bucket: CLOCK hand
};

}  // namespace dnspc
