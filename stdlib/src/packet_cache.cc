#include "dnspc/packet_cache.h"

#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <new>

namespace dnspc {

namespace {

constexpr unsigned kWays = 8;
constexpr size_t kKeyWords = kCacheKeyMax / 8;
// Slot words: the sequence, three times, the sizes, the key, the answer.
constexpr size_t kSeq = 0, kStored = 1, kFreshUntil = 2, kDeadAt = 3, kSizes = 4, kKey = 5;
constexpr size_t kAnswer = kKey + kKeyWords;

// Every shared word is accessed atomically (std::atomic_ref over plain
// mapped memory), so concurrent readers and writers are not data races:
// the seqlock decides which copy a reader may keep.
inline uint64_t load(const uint64_t& w, std::memory_order o = std::memory_order_relaxed) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(w)).load(o);
}
inline void store(uint64_t& w, uint64_t v, std::memory_order o = std::memory_order_relaxed) {
  std::atomic_ref<uint64_t>(w).store(v, o);
}
inline uint8_t load8(const uint8_t& b) {
  return std::atomic_ref<uint8_t>(const_cast<uint8_t&>(b)).load(std::memory_order_relaxed);
}
inline void store8(uint8_t& b, uint8_t v) {
  std::atomic_ref<uint8_t>(b).store(v, std::memory_order_relaxed);
}

inline uint64_t mix(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

size_t round_up(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

}  // namespace

PacketCache::PacketCache(uint32_t entries, uint32_t entry_size, uint64_t seed) {
  if (entries == 0) entries = 1;
  buckets_ = (entries + kWays - 1) / kWays;
  slots_ = buckets_ * kWays;
  entry_size_ = entry_size;
  stride_ = kAnswer + (entry_size + 7) / 8;
  seed_ = seed | 1;
  const size_t tags = size_t{buckets_} * kWays * 8;
  const size_t words = size_t{slots_} * stride_ * 8;
  bytes_ = round_up(tags + words + slots_ + buckets_, 4096);
  // Anonymous pages read as zero (empty tags, even sequences) and cost
  // nothing until written.
  map_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<uint8_t*>(map_);
  tags_ = reinterpret_cast<uint64_t*>(base);
  words_ = reinterpret_cast<uint64_t*>(base + tags);
  refs_ = base + tags + words;
  hands_ = refs_ + slots_;
}

PacketCache::~PacketCache() {
  if (map_) munmap(map_, bytes_);
}

void PacketCache::hash_key(CacheKey& key) const {
  uint64_t h = seed_ ^ (key.size * 0x9e3779b97f4a7c15ull);
  const size_t words = (key.size + 7) / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, key.bytes + i * 8, 8);
    h = mix(h ^ w, 0xff51afd7ed558ccdull ^ seed_);
  }
  h = mix(h, 0xc4ceb9fe1a85ec53ull);
  key.hash = h | 1;  // 0 marks an empty tag
}

bool PacketCache::key_equal(const uint64_t* s, const CacheKey& key) const {
  if ((load(s[kSizes]) & 0xffff) != key.size) return false;
  const size_t words = (key.size + 7) / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, key.bytes + i * 8, 8);
    if (load(s[kKey + i]) != w) return false;
  }
  return true;
}

CacheLookup PacketCache::lookup(const CacheKey& key, uint64_t now_ns, bool stale_wanted,
                                uint8_t* out) const {
  CacheLookup r;
  const uint32_t bucket =
      static_cast<uint32_t>((static_cast<__uint128_t>(key.hash) * buckets_) >> 64);
  const uint64_t* tags = tags_ + size_t{bucket} * kWays;
  for (unsigned w = 0; w < kWays; ++w) {
    if (load(tags[w]) != key.hash) continue;
    const uint32_t index = bucket * kWays + w;
    const uint64_t* s = slot(index);
    const uint64_t seq = load(s[kSeq], std::memory_order_acquire);
    if (seq & 1) continue;  // being written: a miss, never a wait
    if (!key_equal(s, key)) {
      r.collision = true;
      continue;
    }
    const uint64_t stored = load(s[kStored]), fresh_until = load(s[kFreshUntil]),
                   dead_at = load(s[kDeadAt]);
    const uint32_t size = static_cast<uint32_t>(load(s[kSizes]) >> 16);
    if (size > entry_size_) continue;  // torn: the sequence check below would fail anyway
    const size_t words = (size + 7) / 8;
    for (size_t i = 0; i < words; ++i) {
      const uint64_t v = load(s[kAnswer + i]);
      std::memcpy(out + i * 8, &v, 8);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (load(s[kSeq]) != seq) return r;  // rewritten while copied
    if (now_ns >= dead_at) return r;
    const bool fresh = now_ns < fresh_until;
    if (!fresh && !stale_wanted) return r;
    if (!load8(refs_[index])) store8(refs_[index], 1);
    r.result = fresh ? CacheFind::kFresh : CacheFind::kStale;
    r.size = size;
    r.age_ns = now_ns > stored ? now_ns - stored : 0;
    return r;
  }
  return r;
}

CacheStore PacketCache::insert(const CacheKey& key, const uint8_t* answer, size_t size,
                               uint64_t now_ns, uint64_t lifetime_ns, uint64_t stale_ns) {
  if (size > entry_size_) return CacheStore::kTooLarge;
  const uint32_t bucket =
      static_cast<uint32_t>((static_cast<__uint128_t>(key.hash) * buckets_) >> 64);
  uint64_t* tags = tags_ + size_t{bucket} * kWays;
  // The same key first (a refresh), then an empty slot, then a dead one.
  int victim = -1;
  bool live = false;
  for (unsigned w = 0; w < kWays && victim < 0; ++w) {
    if (load(tags[w]) == key.hash && key_equal(slot(bucket * kWays + w), key))
      victim = static_cast<int>(w);
  }
  for (unsigned w = 0; w < kWays && victim < 0; ++w) {
    if (load(tags[w]) == 0) victim = static_cast<int>(w);
  }
  for (unsigned w = 0; w < kWays && victim < 0; ++w) {
    if (load(slot(bucket * kWays + w)[kDeadAt]) <= now_ns) victim = static_cast<int>(w);
  }
  if (victim < 0) {
    // CLOCK: skip (and clear) slots hit since the hand last passed them.
    uint8_t& hand = hands_[bucket];
    unsigned h = load8(hand) % kWays;
    for (unsigned step = 0; step < 2 * kWays; ++step, h = (h + 1) % kWays) {
      uint8_t& ref = refs_[bucket * kWays + h];
      if (load8(ref) == 0) break;
      store8(ref, 0);
    }
    victim = static_cast<int>(h);
    store8(hand, static_cast<uint8_t>((h + 1) % kWays));
    live = true;
  }
  const uint32_t index = bucket * kWays + static_cast<uint32_t>(victim);
  uint64_t* s = slot(index);
  uint64_t seq = load(s[kSeq]);
  if ((seq & 1) || !std::atomic_ref<uint64_t>(s[kSeq]).compare_exchange_strong(
                       seq, seq + 1, std::memory_order_acquire)) {
    return CacheStore::kBusy;
  }
  // Readers that saw the old sequence must not keep what follows.
  std::atomic_thread_fence(std::memory_order_release);
  store(tags[victim], 0);
  store(s[kStored], now_ns);
  store(s[kFreshUntil], now_ns + lifetime_ns);
  store(s[kDeadAt], now_ns + lifetime_ns + stale_ns);
  store(s[kSizes], key.size | (static_cast<uint64_t>(size) << 16));
  for (size_t i = 0; i < (key.size + 7u) / 8; ++i) {
    uint64_t w;
    std::memcpy(&w, key.bytes + i * 8, 8);
    store(s[kKey + i], w);
  }
  const size_t words = size / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, answer + i * 8, 8);
    store(s[kAnswer + i], w);
  }
  if (size % 8) {
    uint64_t w = 0;
    std::memcpy(&w, answer + words * 8, size % 8);
    store(s[kAnswer + words], w);
  }
  store8(refs_[index], 0);
  store(tags[victim], key.hash);
  store(s[kSeq], seq + 2, std::memory_order_release);
  return live ? CacheStore::kEvicted : CacheStore::kStored;
}

uint64_t PacketCache::purge(const std::function<bool(const uint8_t* key, size_t size)>& match) {
  uint64_t removed = 0;
  alignas(8) uint8_t key[kCacheKeyMax];
  for (uint32_t index = 0; index < slots_; ++index) {
    uint64_t& tag = tags_[index];
    if (load(tag) == 0) continue;
    uint64_t* s = slot(index);
    uint64_t seq = load(s[kSeq], std::memory_order_acquire);
    if (seq & 1) continue;
    const size_t size = load(s[kSizes]) & 0xffff;
    if (size > kCacheKeyMax) continue;
    for (size_t i = 0; i < (size + 7) / 8; ++i) {
      const uint64_t w = load(s[kKey + i]);
      std::memcpy(key + i * 8, &w, 8);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (load(s[kSeq]) != seq || !match(key, size)) continue;
    // Taken only if nobody rewrote it since it was read.
    if (!std::atomic_ref<uint64_t>(s[kSeq]).compare_exchange_strong(seq, seq + 1,
                                                                    std::memory_order_acquire))
      continue;
    store(tag, 0);
    store(s[kDeadAt], 0);
    store(s[kSeq], seq + 2, std::memory_order_release);
    ++removed;
  }
  return removed;
}

uint64_t PacketCache::used() const {
  uint64_t n = 0;
  for (uint32_t i = 0; i < slots_; ++i) n += load(tags_[i]) != 0;
  return n;
}

}  // namespace dnspc
