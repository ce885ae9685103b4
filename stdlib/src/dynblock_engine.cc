#include "dnspc/dynblock_engine.h"

#include <algorithm>
#include <cstdio>

#include "dnspc/dns_names.h"

namespace dnspc {

BlockEngine::BlockEngine(std::vector<BlockSpec> specs, BlockEngineOptions options)
    : specs_(std::move(specs)), capacity_(std::max<uint32_t>(options.capacity, 1)) {
  const unsigned workers = std::max(options.workers, 1u);
  for (unsigned w = 0; w < workers; ++w) {
    recorders_.push_back(std::make_unique<BlockRecorder>(specs_, w, capacity_, published_));
  }
  flip_sequence_.assign(workers, 0);
  rings_.resize(specs_.size());
  for (size_t b = 0; b < specs_.size(); ++b)
    rings_[b].seconds.resize(std::max(specs_[b].window_seconds, 1u));
  active_.resize(specs_.size());
  released_hits_.assign(specs_.size(), 0);
}

BlockEngine::~BlockEngine() = default;

void BlockEngine::Ring::push(RingSecond second) {
  RingSecond& old = seconds[next];
  for (const auto& [prefix, count] : old.counts) {
    auto it = running.find(prefix);
    it->second.sum -= count;
    it->second.floor_present -= old.floor;
    if (--it->second.seconds == 0) running.erase(it);
  }
  floor_sum -= old.floor;
  for (const auto& [prefix, count] : second.counts) {
    Running& r = running[prefix];
    r.sum += count;
    r.floor_present += second.floor;
    ++r.seconds;
  }
  floor_sum += second.floor;
  old = std::move(second);
  next = (next + 1) % seconds.size();
}

// One block's second over every worker: a prefix's figure is its count where
// a worker has it plus the floor of each worker that does not, an upper
// bound either way. Kept to `capacity_` prefixes, the largest; the floor of
// the second then covers the ones left out.
BlockEngine::RingSecond BlockEngine::merge_second(uint32_t block) {
  const unsigned old = 1 - written_;
  struct Merged {
    uint64_t sum = 0, floor_present = 0;
  };
  std::unordered_map<SourcePrefix, Merged, PrefixHash> merged;
  uint64_t floor_total = 0;
  for (auto& r : recorders_) {
    HeavyHitters& h = r->summaries_[old][block];
    const uint64_t floor = h.floor();
    floor_total += floor;
    for (uint32_t i = 0; i < h.size(); ++i) {
      Merged& m = merged[h.entry(i).prefix];
      m.sum += h.entry(i).count;
      m.floor_present += floor;
    }
    h.clear();
  }
  RingSecond out;
  out.floor = floor_total;
  out.counts.reserve(merged.size());
  for (const auto& [prefix, m] : merged)
    out.counts.emplace_back(prefix, m.sum + floor_total - m.floor_present);
  if (out.counts.size() > capacity_) {
    auto larger = [](const auto& a, const auto& b) { return a.second > b.second; };
    std::nth_element(out.counts.begin(), out.counts.begin() + capacity_, out.counts.end(), larger);
    for (size_t i = capacity_; i < out.counts.size(); ++i)
      out.floor = std::max(out.floor, out.counts[i].second);
    out.counts.resize(capacity_);
  }
  return out;
}

namespace {

std::string reason_text(const BlockSpec& spec, double rate) {
  std::string what = spec.measure == BlockMeasure::kQtype ? "qtype " + qtype_name(spec.qtype)
                                                          : block_measure_name(spec.measure);
  char text[160];
  std::snprintf(text, sizeof text, " at %.1f/s over %us, above %g/s", rate, spec.window_seconds,
                spec.bound_per_second);
  return what + text;
}

}  // namespace

// Blocks the prefixes over the bound (or keeps them blocked for another
// duration from now) and releases the expired ones. True when the blocks in
// force changed.
bool BlockEngine::decide(uint32_t block, uint64_t now_ns) {
  const BlockSpec& spec = specs_[block];
  Ring& ring = rings_[block];
  Active& active = active_[block];
  bool changed = false;
  const double limit = spec.bound_per_second * spec.window_seconds;
  for (const auto& [prefix, running] : ring.running) {
    const uint64_t estimate = ring.estimate(running);
    if (static_cast<double>(estimate) <= limit || spec.excludes(prefix)) continue;
    const double rate = static_cast<double>(estimate) / spec.window_seconds;
    std::unique_ptr<ActiveBlock>& slot = active[prefix];
    if (!slot) {
      slot = std::make_unique<ActiveBlock>(workers());
      slot->prefix = prefix;
      slot->block = block;
      slot->since_ns = now_ns;
      changed = true;
    }
    slot->expiry_ns = std::max(slot->expiry_ns, now_ns + spec.duration_ns);
    slot->reason = reason_text(spec, rate);
  }
  for (auto it = active.begin(); it != active.end();) {
    if (it->second->expiry_ns > now_ns) {
      ++it;
      continue;
    }
    retired_blocks_.push_back(std::move(it->second));
    it = active.erase(it);
    changed = true;
  }
  return changed;
}

void BlockEngine::publish(std::vector<std::unique_ptr<BlockSnapshot>>& retired) {
  std::vector<const ActiveBlock*> blocks;
  for (const Active& a : active_) {
    for (const auto& [prefix, block] : a) blocks.push_back(block.get());
  }
  std::unique_ptr<BlockSnapshot> next;
  if (!blocks.empty()) next = std::make_unique<BlockSnapshot>(std::move(blocks), specs_);
  // Without blocks workers see nullptr and skip the lookup altogether.
  published_.store(next.get(), std::memory_order_seq_cst);
  if (snapshot_) retired.push_back(std::move(snapshot_));
  snapshot_ = std::move(next);
}

bool BlockEngine::evaluate(uint64_t now_ns) {
  if (!flipping_) {
    written_ = 1 - written_;
    for (size_t w = 0; w < recorders_.size(); ++w) {
      recorders_[w]->active_.store(written_, std::memory_order_seq_cst);
      flip_sequence_[w] = recorders_[w]->sequence_.load(std::memory_order_seq_cst);
    }
    flipping_ = true;
  }
  for (size_t w = 0; w < recorders_.size(); ++w) {
    const uint64_t at_flip = flip_sequence_[w];
    // Acquire: pairs with end_batch's release, so the batch's counts are visible.
    if ((at_flip & 1) && recorders_[w]->sequence_.load(std::memory_order_acquire) == at_flip)
      return false;
  }
  flipping_ = false;
  // Every worker has begun a batch since the previous publish, or is between
  // batches: nothing retired before this flip can still be read.
  // A released block's hits are final only now: workers may have counted
  // hits on it until they moved to the newer snapshot.
  retired_snapshots_.clear();
  for (const auto& b : retired_blocks_) released_hits_[b->block] += b->total_hits(workers());
  retired_blocks_.clear();

  // What clear() retired during this flip is guarded by the next one.
  for (auto& s : deferred_snapshots_) retired_snapshots_.push_back(std::move(s));
  for (auto& b : deferred_blocks_) retired_blocks_.push_back(std::move(b));
  deferred_snapshots_.clear();
  deferred_blocks_.clear();

  bool changed = false;
  for (uint32_t b = 0; b < specs_.size(); ++b) {
    rings_[b].push(merge_second(b));
    changed |= decide(b, now_ns);
  }
  if (changed) publish(retired_snapshots_);
  return true;
}

bool BlockEngine::idle() const {
  for (uint32_t b = 0; b < specs_.size(); ++b) {
    if (!rings_[b].empty() || !active_[b].empty()) return false;
    for (const auto& r : recorders_) {
      if (r->summaries_[0][b].total() || r->summaries_[1][b].total()) return false;
    }
  }
  return true;
}

size_t BlockEngine::active_count() const {
  size_t n = 0;
  for (const Active& a : active_) n += a.size();
  return n;
}

uint64_t BlockEngine::block_hits(uint32_t block) const {
  uint64_t n = released_hits_[block];
  for (const auto& [prefix, b] : active_[block]) n += b->total_hits(workers());
  for (const auto& b : retired_blocks_) n += b->block == block ? b->total_hits(workers()) : 0;
  for (const auto& b : deferred_blocks_) n += b->block == block ? b->total_hits(workers()) : 0;
  return n;
}

size_t BlockEngine::summary_bytes() const {
  size_t n = 0;
  for (const auto& r : recorders_) n += r->bytes();
  return n;
}

void BlockEngine::carry_over_from(const BlockEngine& old) {
  for (uint32_t b = 0; b < specs_.size(); ++b) {
    const BlockSpec& spec = specs_[b];
    auto same = std::find_if(old.specs_.begin(), old.specs_.end(),
                             [&](const BlockSpec& s) { return s.name == spec.name; });
    if (same == old.specs_.end()) continue;
    const size_t ob = static_cast<size_t>(same - old.specs_.begin());
    released_hits_[b] = old.block_hits(static_cast<uint32_t>(ob));
    for (const auto& [prefix, from] : old.active_[ob]) {
      auto to = std::make_unique<ActiveBlock>(workers());
      to->prefix = prefix;
      to->block = b;
      to->since_ns = from->since_ns;
      to->expiry_ns = from->expiry_ns;
      to->reason = from->reason;
      to->carried_hits = from->total_hits(old.workers());
      released_hits_[b] -= to->carried_hits;  // counted by the block itself from now on
      active_[b][prefix] = std::move(to);
    }
    const bool same_counting = same->measure == spec.measure && same->qtype == spec.qtype &&
                               same->v4_prefix == spec.v4_prefix &&
                               same->v6_prefix == spec.v6_prefix;
    if (!same_counting) continue;
    const Ring& from = old.rings_[ob];
    const size_t n = from.seconds.size(), keep = std::min(n, rings_[b].seconds.size());
    for (size_t i = n - keep; i < n; ++i) rings_[b].push(from.seconds[(from.next + i) % n]);
  }
  publish(retired_snapshots_);
}

long BlockEngine::clear(std::string_view name) {
  // Outside a flip the next one guards what is retired now, as after decide().
  auto& blocks_to = flipping_ ? deferred_blocks_ : retired_blocks_;
  bool named = false;
  long released = 0;
  for (uint32_t b = 0; b < specs_.size(); ++b) {
    if (!name.empty() && specs_[b].name != name) continue;
    named = true;
    for (auto& [prefix, block] : active_[b]) {
      blocks_to.push_back(std::move(block));
      ++released;
    }
    active_[b].clear();
    Ring fresh;
    fresh.seconds.resize(rings_[b].seconds.size());
    rings_[b] = std::move(fresh);
  }
  if (!name.empty() && !named) return -1;
  if (released) publish(flipping_ ? deferred_snapshots_ : retired_snapshots_);
  return released;
}

}  // namespace dnspc
