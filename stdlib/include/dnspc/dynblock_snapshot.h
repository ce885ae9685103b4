// The blocks in force, as workers see them: an immutable snapshot the
// evaluator publishes behind an atomic pointer (dynblock_engine.h says when
// it is freed). A worker looks a source up once per query, before the rules.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/dynblock_spec.h"
#include "dnspc/source_prefix.h"

namespace dnspc {

// One blocked prefix. Workers read `prefix` and `block` and add to their own
// hit counter; everything else belongs to the evaluator's thread.
struct ActiveBlock {
  SourcePrefix prefix;
  uint32_t block = 0;  // index in the engine's specs (policy order)
  uint64_t since_ns = 0;
  uint64_t expiry_ns = 0;     // released at the first evaluation at or after it
  std::string reason;         // "queries at 612.3/s over 10s (bound 500/s)"
  uint64_t carried_hits = 0;  // hits before a policy reload

  struct alignas(64) Hits {
    std::atomic<uint64_t> n{0};
  };
  std::unique_ptr<Hits[]> hits;  // one per worker, each written by its worker only

  explicit ActiveBlock(unsigned workers) : hits(std::make_unique<Hits[]>(workers)) {}
  void count_hit(unsigned worker) const {  // the counters are not part of the block's identity
    std::atomic<uint64_t>& n = hits[worker].n;
    n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  uint64_t total_hits(unsigned workers) const;
};

class BlockSnapshot {
 public:
  // `blocks` and `specs` stay owned by the engine and outlive the snapshot.
  BlockSnapshot(std::vector<const ActiveBlock*> blocks, const std::vector<BlockSpec>& specs);

  // The block that applies to `source`: among the blocked prefixes holding
  // it and not excepted by its block, the one of the first block in policy
  // order. One hash probe per distinct prefix length of the source's family;
  // no allocation.
  const ActiveBlock* find(const NetAddress& source) const;

  size_t size() const { return blocks_.size(); }
  const ActiveBlock& block(size_t i) const { return *blocks_[i]; }

 private:
  std::vector<const ActiveBlock*> blocks_;
  const std::vector<BlockSpec>& specs_;
  std::vector<uint32_t> index_;  // open addressing over blocks_, kEmpty when free
  uint32_t mask_ = 0;
  std::vector<uint8_t> v4_lengths_, v6_lengths_;  // distinct, ascending
};

}  // namespace dnspc
