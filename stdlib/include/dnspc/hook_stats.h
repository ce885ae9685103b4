// What one Lua hook did on one worker. Written by that worker only (a
// relaxed load and store, no read-modify-write on the packet path), read by
// anyone: the registry keeps one per hook name and worker, so the numbers
// survive a reload, and the metrics table sums them.
#pragma once

#include <atomic>
#include <cstdint>

namespace dnspc {

struct HookStats {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> errors{0};             // raised an error or returned something unusable
  std::atomic<uint64_t> instruction_stops{0};  // stopped by the per-call instruction budget
  std::atomic<uint64_t> memory_stops{0};       // stopped by the state's memory cap
  std::atomic<uint64_t> nanoseconds{0};        // time spent in the calls
  std::atomic<uint64_t> rebuilds{0};           // the state was rebuilt after this hook ran out of memory

  static void add(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static uint64_t get(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }
};

}  // namespace dnspc
