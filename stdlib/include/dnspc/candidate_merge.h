// The ascending union of a few sorted id lists, without allocation.
//
// The evaluator visits candidate rules in first-match order: each true
// predicate contributes a sorted list of the rules it may decide, and the
// rules are tried lowest index first, each once:
//
//   CandidateMerge m;
//   m.add(list_a, len_a);
//   m.add(list_b, len_b);
//   uint32_t rule;
//   while (m.next(&rule)) { ... }
//
// The lookup probes (name_index.h, prefix_index.h) use the same merge to
// report deduplicated, ascending test ids.
//
// Layout: two fixed arrays of MaxLists pointers (head, end) and a count; no
// heap, trivially copyable, so it lives on the caller's stack. Only lists not
// yet exhausted are kept: an exhausted list is swapped with the last one, so
// next() scans exactly the live lists. Each step is one pass to find the
// smallest head and one to advance every head equal to it (that pass also
// drops duplicates inside a list), so a step costs O(live lists), and K is
// small in practice (a handful of true predicates).
#pragma once

#include <cstdint>

namespace dnspc {

template <uint32_t MaxLists>
class CandidateMergeN {
  static_assert(MaxLists > 0, "a merge needs room for at least one list");

 public:
  static constexpr uint32_t kMaxLists = MaxLists;

  // Adds a list sorted ascending (repeats allowed; they are reported once).
  // The list must outlive the merge. An empty list takes no room. Returns
  // false, adding nothing, when MaxLists lists are already live.
  bool add(const uint32_t* ids, uint32_t count) {
    if (count == 0) return true;
    if (live_ == MaxLists) return false;
    head_[live_] = ids;
    end_[live_] = ids + count;
    ++live_;
    return true;
  }

  // Stores the next id of the union in *id and returns true; false when every
  // list is exhausted.
  bool next(uint32_t* id) {
    if (live_ == 0) return false;
    uint32_t min = *head_[0];
    for (uint32_t i = 1; i < live_; ++i) {
      const uint32_t v = *head_[i];
      min = v < min ? v : min;
    }
    for (uint32_t i = 0; i < live_;) {
      const uint32_t* h = head_[i];
      const uint32_t* e = end_[i];
      while (h != e && *h == min) ++h;
      if (h == e) {
        --live_;
        head_[i] = head_[live_];
        end_[i] = end_[live_];
      } else {
        head_[i] = h;
        ++i;
      }
    }
    *id = min;
    return true;
  }

  // Writes the union's first `cap` ids to `out` (ascending) and returns the
  // union's full size, which exceeds `cap` when `out` was too small. Leaves
  // the merge empty.
  uint32_t drain(uint32_t* out, uint32_t cap) {
    uint32_t n = 0;
    if (live_ == 1) {  // common case: one list; copy it, skipping repeats
      const uint32_t* h = head_[0];
      const uint32_t* e = end_[0];
      live_ = 0;
      uint32_t prev = *h;
      if (cap > 0) out[0] = prev;
      n = 1;
      for (++h; h != e; ++h) {
        if (*h == prev) continue;
        prev = *h;
        if (n < cap) out[n] = prev;
        ++n;
      }
      return n;
    }
    uint32_t id;
    while (next(&id)) {
      if (n < cap) out[n] = id;
      ++n;
    }
    return n;
  }

  bool empty() const { return live_ == 0; }
  uint32_t live_lists() const { return live_; }
  void clear() { live_ = 0; }

 private:
  uint32_t live_ = 0;
  const uint32_t* head_[MaxLists];
  const uint32_t* end_[MaxLists];
};

using CandidateMerge = CandidateMergeN<64>;

}  // namespace dnspc
