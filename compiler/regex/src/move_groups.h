// The moves of one DFA state during subset construction, grouped: byte
// classes that the same moves apply to lead to the same next state, so the
// construction computes one closure per group instead of one per class (a
// state looping on [a-z0-9] has a couple of groups and dozens of classes).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bits256.h"
#include "byte_classes.h"
#include "class_groups.h"
#include "dnspc/regex/ast.h"

namespace dnspc::regex::detail {

// A member of the state moves on every class of NFA byte set `set` to NFA
// state `to`; a match state moves on every class (kEveryClass) to itself.
struct Move {
  static constexpr uint32_t kEveryClass = UINT32_MAX;
  uint32_t set;
  uint32_t to;
};

struct MoveGroup {
  Bits256 classes;
  uint32_t seeds_begin, seeds_end;  // the `to` of each move on these classes, in move order
};

class MoveGrouper {
 public:
  MoveGrouper(std::span<const ByteSet> sets, const ByteClasses& classes);

  // How many classes a move on `set` covers.
  uint32_t class_count(uint32_t set) const;

  // Groups the classes by `moves` (in the order of the state's set). The
  // groups cover every class, in order of their lowest class; a group with
  // no seeds leads to the dead state.
  void group(std::span<const Move> moves);

  const std::vector<MoveGroup>& groups() const { return groups_; }

  std::span<const uint32_t> seeds(const MoveGroup& g) const {
    return std::span<const uint32_t>(seeds_).subspan(g.seeds_begin, g.seeds_end - g.seeds_begin);
  }

 private:
  bool covers(const Move& m, uint32_t c) const;
  void group_by_masks(std::span<const Move> moves);
  void group_by_buckets(std::span<const Move> moves);

  uint32_t k_ = 0;
  Bits256 all_classes_{};
  // Per NFA byte set: its classes, and how many.
  std::vector<Bits256> set_masks_;
  std::vector<uint32_t> set_counts_;
  std::vector<MoveGroup> groups_;
  std::vector<uint32_t> seeds_;
  // group_by_masks: the groups' classes.
  std::vector<Bits256> masks_;
  // group_by_buckets: per class, the `to` of each move on it (ranges of one
  // array), and the classes' groups.
  std::vector<uint32_t> bucket_begin_, bucket_items_, fill_;
  ClassGroups class_groups_;
};

}  // namespace dnspc::regex::detail
