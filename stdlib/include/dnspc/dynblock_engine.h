// The dynamic-block engine (docs/dynblocks.md): per-worker recorders on the
// packet path, and an evaluator off it (the runtime's main thread once a
// second; dnspc test at every virtual second) that merges what the workers
// counted into per-block rings over each block's window, blocks the source
// prefixes over their bound, releases expired blocks and publishes the blocks
// in force as an immutable snapshot.
//
// The handshake, in full. Each recorder has two summary buffers per block, an
// atomic `active` index naming the one its worker writes, and a batch
// sequence that is odd while the worker is inside a batch.
// 1. evaluate() flips every recorder's `active` index, then reads each
//    sequence (both seq_cst; the worker's half is in dynblock_recorder.cc).
// 2. It waits until each worker is between batches (even) or has moved past
//    the batch it was in (the value changed). From then on no worker writes
//    the old buffers, and every worker has loaded the newest snapshot
//    pointer at least once since the previous evaluation. evaluate() does not
//    block: it returns false and the caller calls again shortly (the
//    runtime's workers end a batch at least every tick).
// 3. So the snapshots (and released blocks) retired by the previous
//    evaluation are freed now: quiescent-state reclamation, driven by the
//    same batch sequence, no reference counts on the packet path.
// 4. It reads the old buffers, merges them into each block's ring, clears
//    them (off the packet path: workers never clear), decides, and publishes
//    a new snapshot when the blocks in force changed.
//
// Counting. Every figure the evaluator compares with a bound is an upper
// bound of the prefix's true count (HeavyHitters: counts never under-count,
// and a prefix missing from a summary is charged that summary's floor). A
// prefix is blocked when that upper bound, divided by the window, is above
// the bound. While a worker counts fewer than capacity x bound events per
// second, the floors stay under the bound and the figures are within
// (events / capacity) of the truth: every prefix over the bound is blocked,
// whatever number of other sources is sprayed. Memory is fixed: 2 x capacity
// counters per block per worker, and at most window x capacity ring entries
// per block.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnspc/dynblock_recorder.h"
#include "dnspc/dynblock_snapshot.h"
#include "dnspc/dynblock_spec.h"

namespace dnspc {

struct BlockEngineOptions {
  unsigned workers = 1;
  // Counters per summary (per block, per worker, per second) and ring
  // entries per block and second.
  uint32_t capacity = 4096;
};

// One line of `dnspc ctl blocks`.
struct BlockListing {
  std::string prefix;  // "192.0.2.0/24"
  std::string block;   // the dynblock's name
  std::string reason;
  std::string action;  // "pool abuse", "drop", ...
  uint64_t since_ns = 0, expiry_ns = 0;
  uint64_t hits = 0;
};

struct BlockTotal {
  std::string block;  // the dynblock's name
  uint64_t active = 0;  // prefixes blocked now
  uint64_t hits = 0;    // released blocks included
};

class BlockEngine {
 public:
  BlockEngine(std::vector<BlockSpec> specs, BlockEngineOptions options);
  ~BlockEngine();  // no worker may use a recorder any more
  BlockEngine(const BlockEngine&) = delete;
  BlockEngine& operator=(const BlockEngine&) = delete;

  const std::vector<BlockSpec>& specs() const { return specs_; }
  unsigned workers() const { return static_cast<unsigned>(recorders_.size()); }
  BlockRecorder& recorder(unsigned worker) { return *recorders_[worker]; }

  // ---- the evaluator's thread only
  // Closes the second ending at `now_ns`: see the handshake above. False when
  // a worker is still inside a batch that began before the flip; call again.
  bool evaluate(uint64_t now_ns);
  // Nothing counted, nothing blocked: evaluating would change nothing.
  // Reads the workers' summaries, so only for a single thread (dnspc test
  // skips idle virtual seconds with it).
  bool idle() const;
  // What `dnspc ctl blocks` shows (the control plane renders it).
  std::vector<BlockListing> list() const;  // in policy order, then by prefix
  std::vector<BlockTotal> totals() const;  // one per block, in policy order
  // An operator's `clear-blocks`: releases at once every prefix blocked by
  // the block named `name` (by every block when `name` is empty) and empties
  // that block's ring, so a released client starts counting afresh instead
  // of being blocked again at the next evaluation. Returns how many prefixes
  // were released, or -1 when no block has that name. What workers counted
  // since the last evaluation (under a second) still counts.
  long clear(std::string_view name);
  // Hits of one block (by spec index), released blocks included.
  uint64_t block_hits(uint32_t block) const;
  size_t active_count() const;

  // A policy reload: takes the rings and blocks in force of `old`'s blocks
  // that have the same name here. Blocks keep their prefix, expiry, reason
  // and hits and take this policy's action; a ring survives when the block
  // still counts the same thing per the same prefixes (its newest seconds,
  // as many as the new window holds). Call before any worker uses this
  // engine and after `old` evaluated for the last time; what workers counted
  // in `old` since then (under a second) is not carried.
  void carry_over_from(const BlockEngine& old);

  // For tests: the memory the recorders' summaries hold.
  size_t summary_bytes() const;

 private:
  struct PrefixHash {
    size_t operator()(const SourcePrefix& p) const { return static_cast<size_t>(p.hash()); }
  };
  struct RingSecond {
    std::vector<std::pair<SourcePrefix, uint64_t>> counts;  // upper bounds
    uint64_t floor = 0;  // what a prefix not listed may have counted
  };
  struct Running {
    uint64_t sum = 0;            // of the seconds listing the prefix
    uint64_t floor_present = 0;  // the floors of those seconds
    uint32_t seconds = 0;        // how many list it
  };
  struct Ring {
    std::vector<RingSecond> seconds;  // window_seconds of them
    size_t next = 0;                  // the oldest, replaced next
    std::unordered_map<SourcePrefix, Running, PrefixHash> running;
    uint64_t floor_sum = 0;
    uint64_t estimate(const Running& r) const { return r.sum + floor_sum - r.floor_present; }
    void push(RingSecond second);
    bool empty() const { return running.empty() && floor_sum == 0; }
  };
  using Active = std::unordered_map<SourcePrefix, std::unique_ptr<ActiveBlock>, PrefixHash>;

  RingSecond merge_second(uint32_t block);
  bool decide(uint32_t block, uint64_t now_ns);
  void publish(std::vector<std::unique_ptr<BlockSnapshot>>& retired);

  std::vector<BlockSpec> specs_;
  uint32_t capacity_;
  std::atomic<const BlockSnapshot*> published_{nullptr};
  std::vector<std::unique_ptr<BlockRecorder>> recorders_;
  std::vector<Ring> rings_;              // by block
  std::vector<Active> active_;           // by block
  std::vector<uint64_t> released_hits_;  // by block

  // The flip in progress.
  bool flipping_ = false;
  unsigned written_ = 0;  // the buffer workers write now
  std::vector<uint64_t> flip_sequence_;

  std::unique_ptr<BlockSnapshot> snapshot_;
  std::vector<std::unique_ptr<BlockSnapshot>> retired_snapshots_;
  std::vector<std::unique_ptr<ActiveBlock>> retired_blocks_;
  // What clear() retired while a flip was under way: that flip's wait does
  // not cover it (a worker may have loaded the snapshot after the flip), so
  // it joins the retired lists only once that flip has completed.
  std::vector<std::unique_ptr<BlockSnapshot>> deferred_snapshots_;
  std::vector<std::unique_ptr<ActiveBlock>> deferred_blocks_;
};

}  // namespace dnspc
