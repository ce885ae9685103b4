// The worker's side of dynamic blocks: counting what each block measures, and
// looking up the blocks in force. One recorder per worker, written by that
// worker's thread only; no lock, no allocation, memory fixed at construction
// (two HeavyHitters summaries per block).
//
// Per batch of packets a worker calls:
//   begin_batch();                      // picks up the evaluator's flip and its newest blocks
//   for each query:  record_query(...); if (auto* b = lookup(src)) { count_hit(*b); ... } else
//   decide for each answer: record_response(...); end_batch();                        // tells the
//   evaluator this worker is between batches
// Every query is counted, blocked or not, so a client stays blocked while it
// keeps flooding. The engine (dynblock_engine.h) owns the recorders and
// explains the handshake.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "dnspc/dynblock_snapshot.h"
#include "dnspc/dynblock_spec.h"
#include "dnspc/heavy_hitters.h"

namespace dnspc {

class BlockEngine;

class BlockRecorder {
 public:
  BlockRecorder(const std::vector<BlockSpec>& specs, unsigned worker, uint32_t capacity,
                const std::atomic<const BlockSnapshot*>& published);
  BlockRecorder(const BlockRecorder&) = delete;
  BlockRecorder& operator=(const BlockRecorder&) = delete;

  void begin_batch();
  void end_batch();

  void record_query(const NetAddress& source, uint16_t qtype);
  // A backend's answer to `source`: its rcode and size in bytes.
  void record_response(const NetAddress& source, uint8_t answer_rcode, uint32_t bytes);

  // The block in force for `source` (first in policy order), or nullptr; as
  // of this batch's begin_batch(). Nothing at all happens without blocks.
  const ActiveBlock* lookup(const NetAddress& source) const {
    return snapshot_ ? snapshot_->find(source) : nullptr;
  }
  void count_hit(const ActiveBlock& block) const { block.count_hit(worker_); }

  unsigned worker() const { return worker_; }
  // Memory the summaries hold, fixed at construction.
  size_t bytes() const;

 private:
  friend class BlockEngine;
  void add(uint32_t block, const NetAddress& source, uint64_t weight);

  const std::vector<BlockSpec>& specs_;
  unsigned worker_;
  const std::atomic<const BlockSnapshot*>& published_;
  // Blocks by what they count, so a query touches only the blocks it feeds.
  std::vector<uint32_t> by_queries_, by_qtype_, by_servfail_, by_nxdomain_, by_bytes_;
  std::vector<HeavyHitters> summaries_[2];  // [buffer][block]

  // Worker-only: the buffer and snapshot this batch uses.
  unsigned current_ = 0;
  const BlockSnapshot* snapshot_ = nullptr;

  // Shared with the evaluator, each on its own cache line.
  alignas(64) std::atomic<unsigned> active_{
      0};  // the buffer workers write; flipped by the evaluator
  alignas(64) std::atomic<uint64_t> sequence_{0};  // odd while a batch runs
};

}  // namespace dnspc
