// Two ways to group, both costing about what listing the moves class by
// class costs (the subset construction's work measure), so the grouping
// never outgrows the work budget:
//
// - few byte moves (the usual case): split a list of class masks by each
//   move's mask, then collect each group's seeds by testing its lowest class
//   against every move. Each split creates at most as many groups as the
//   move has classes, so there are at most 1 + (classes moved on) groups,
//   and with a bounded number of moves the cost stays proportional to that.
// - many byte moves (large alternations of single bytes): list the moves
//   per class (counting sort), and group the classes by partition
//   refinement, in time proportional to the classes moved on.
#include "move_groups.h"

#include <algorithm>

namespace dnspc::regex::detail {

namespace {

// Above this many byte moves, masks would cost moves x groups.
constexpr size_t kFewMoves = 8;

}  // namespace

MoveGrouper::MoveGrouper(std::span<const ByteSet> sets, const ByteClasses& classes)
    : k_(classes.count()) {
  for (uint32_t c = 0; c < k_; ++c) detail::set(all_classes_, c);
  // Every class is inside a set or outside it, so its representative decides.
  set_masks_.assign(sets.size(), Bits256{});
  set_counts_.assign(sets.size(), 0);
  for (size_t i = 0; i < sets.size(); ++i) {
    for (uint32_t c = 0; c < k_; ++c) {
      if (!sets[i].test(classes.representative[c])) continue;
      detail::set(set_masks_[i], c);
      ++set_counts_[i];
    }
  }
  groups_.reserve(16);
  seeds_.reserve(64);
}

uint32_t MoveGrouper::class_count(uint32_t set) const {
  return set == Move::kEveryClass ? k_ : set_counts_[set];
}

bool MoveGrouper::covers(const Move& m, uint32_t c) const {
  return m.set == Move::kEveryClass || test(set_masks_[m.set], c);
}

void MoveGrouper::group(std::span<const Move> moves) {
  groups_.clear();
  seeds_.clear();
  const auto byte_moves = std::count_if(moves.begin(), moves.end(),
                                        [](const Move& m) { return m.set != Move::kEveryClass; });
  if (static_cast<size_t>(byte_moves) <= kFewMoves) {
    group_by_masks(moves);
  } else {
    group_by_buckets(moves);
  }
}

void MoveGrouper::group_by_masks(std::span<const Move> moves) {
  masks_.assign(1, all_classes_);
  for (const Move& m : moves) {
    if (m.set != Move::kEveryClass) refine(masks_, set_masks_[m.set]);
  }
  std::sort(masks_.begin(), masks_.end(),
            [](const Bits256& a, const Bits256& b) { return lowest(a) < lowest(b); });
  for (const Bits256& mask : masks_) {
    const uint32_t c = lowest(mask);
    const auto begin = static_cast<uint32_t>(seeds_.size());
    for (const Move& m : moves) {
      if (covers(m, c)) seeds_.push_back(m.to);
    }
    groups_.push_back({mask, begin, static_cast<uint32_t>(seeds_.size())});
  }
}

void MoveGrouper::group_by_buckets(std::span<const Move> moves) {
  auto for_each_move = [&](auto&& f) {
    for (const Move& m : moves) {
      if (m.set == Move::kEveryClass) {
        for (uint32_t c = 0; c < k_; ++c) f(c, m.to);
      } else {
        for_each_member(set_masks_[m.set], [&](uint32_t c) { f(c, m.to); });
      }
    }
  };
  bucket_begin_.assign(k_ + 1, 0);
  for_each_move([&](uint32_t c, uint32_t) { ++bucket_begin_[c + 1]; });
  for (uint32_t c = 1; c <= k_; ++c) bucket_begin_[c] += bucket_begin_[c - 1];
  bucket_items_.resize(bucket_begin_[k_]);
  fill_.assign(bucket_begin_.begin(), bucket_begin_.end() - 1);
  for_each_move([&](uint32_t c, uint32_t to) { bucket_items_[fill_[c]++] = to; });

  class_groups_.reset(k_);
  for (const Move& m : moves) {
    if (m.set != Move::kEveryClass) class_groups_.split(set_masks_[m.set]);
  }
  for (uint32_t g : class_groups_.by_lowest()) {
    Bits256 mask{};
    for (uint32_t c : class_groups_.members(g)) detail::set(mask, c);
    const uint32_t c = class_groups_.lowest(g);
    const auto begin = static_cast<uint32_t>(seeds_.size());
    seeds_.insert(seeds_.end(), bucket_items_.begin() + bucket_begin_[c],
                  bucket_items_.begin() + bucket_begin_[c + 1]);
    groups_.push_back({mask, begin, static_cast<uint32_t>(seeds_.size())});
  }
}

}  // namespace dnspc::regex::detail
