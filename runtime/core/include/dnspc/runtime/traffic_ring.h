// Recent traffic, per worker: a bounded ring of fixed-size records written
// by the worker alone and read by the control thread while it writes. Each
// slot is a seqlock over 64-bit atomic words (relaxed loads and stores, so
// the reader never races the writer in the C++ sense): a reader that sees
// the sequence change under it skips that record. No lock and no allocation
// on the packet path; memory is fixed when the registry is made
// (docs/runtime.md, "Recent traffic").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/query_view.h"

namespace dnspc::runtime {

struct TrafficRecord {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint64_t time_ns = 0;  // CLOCK_MONOTONIC
  NetAddress client;
  uint32_t rule = kNone;    // registry rule id; kNone: a dynamic block or no rule
  uint32_t server = kNone;  // registry server id; kNone: answered locally or dropped
  uint32_t latency_us = 0;  // backend answers only
  uint16_t qtype = 0;
  uint16_t size = 0;        // bytes of the query (query ring) or of the answer (answer ring)
  uint8_t action = 0;       // ActionKind of the verdict
  uint8_t rcode = 0;        // answers only
  uint8_t transport = 0;    // Transport
  uint8_t source = 0;       // answers: AnswerSource
  uint8_t block = 0;        // 1: decided by a dynamic block (rule is then the block index)
  uint8_t qname_length = 0;  // of the wire name below, root byte included
  uint8_t qname[kMaxNameLength];  // lower-cased wire form
};

enum class AnswerSource : uint8_t { kBackend, kLocal, kTimeout, kCache };
constexpr unsigned kAnswerSourceCount = 4;

class TrafficRing {
 public:
  explicit TrafficRing(size_t capacity);

  // Writer (the owning worker) only.
  void push(const TrafficRecord& r);
  // Any thread: the records there now, oldest first, appended to `out`;
  // those overwritten while being read are left out.
  void snapshot(std::vector<TrafficRecord>& out) const;
  size_t capacity() const { return capacity_; }
  uint64_t pushed() const { return next_.load(std::memory_order_relaxed); }

  static constexpr size_t kWords = (sizeof(TrafficRecord) + 7) / 8;

 private:
  struct Slot {
    std::atomic<uint64_t> seq{0};  // odd while being written
    std::atomic<uint64_t> words[kWords];
  };
  size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<uint64_t> next_{0};  // records ever pushed
};

}  // namespace dnspc::runtime
