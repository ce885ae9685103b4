#include "dnspc/dynblock_snapshot.h"

#include <algorithm>

namespace dnspc {

namespace {
constexpr uint32_t kEmpty = UINT32_MAX;
}

uint64_t ActiveBlock::total_hits(unsigned workers) const {
  uint64_t sum = carried_hits;
  for (unsigned w = 0; w < workers; ++w) sum += hits[w].n.load(std::memory_order_relaxed);
  return sum;
}

BlockSnapshot::BlockSnapshot(std::vector<const ActiveBlock*> blocks,
                             const std::vector<BlockSpec>& specs)
    : blocks_(std::move(blocks)), specs_(specs) {
  // Two blocks may hold the same prefix: both stay in the probe run, since
  // the later one still applies to addresses the first one excepts.
  uint32_t slots = 4;
  while (slots < 2 * blocks_.size()) slots <<= 1;
  mask_ = slots - 1;
  index_.assign(slots, kEmpty);
  for (uint32_t i = 0; i < blocks_.size(); ++i) {
    const SourcePrefix& p = blocks_[i]->prefix;
    uint32_t s = static_cast<uint32_t>(p.hash()) & mask_;
    while (index_[s] != kEmpty) s = (s + 1) & mask_;
    index_[s] = i;
    auto& lengths = p.family == AddressFamily::kIPv4 ? v4_lengths_ : v6_lengths_;
    if (std::find(lengths.begin(), lengths.end(), p.length) == lengths.end())
      lengths.push_back(p.length);
  }
  std::sort(v4_lengths_.begin(), v4_lengths_.end());
  std::sort(v6_lengths_.begin(), v6_lengths_.end());
}

const ActiveBlock* BlockSnapshot::find(const NetAddress& source) const {
  const auto& lengths = source.is_v4() ? v4_lengths_ : v6_lengths_;
  if (!source.is_v4() && !source.is_v6()) return nullptr;
  const ActiveBlock* best = nullptr;
  for (uint8_t len : lengths) {
    SourcePrefix key = SourcePrefix::of(source, len, len);
    for (uint32_t s = static_cast<uint32_t>(key.hash()) & mask_; index_[s] != kEmpty;
         s = (s + 1) & mask_) {
      const ActiveBlock* b = blocks_[index_[s]];
      if (b->prefix == key && (!best || b->block < best->block) &&
          !specs_[b->block].excludes(source))
        best = b;
    }
  }
  return best;
}

}  // namespace dnspc
