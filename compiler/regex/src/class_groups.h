// The byte classes 0..k-1 split into groups by partition refinement: each
// split(S) separates, in every group S cuts, the classes in S from the rest,
// in time proportional to |S| (not to k or to the number of groups), so
// refining by all the members of a DFA state costs what listing their
// classes costs.
#pragma once

#include <cstdint>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "bits256.h"

namespace dnspc::regex::detail {

class ClassGroups {
 public:
  // One group holding every class.
  void reset(uint32_t k) {
    order_.resize(k);
    pos_.resize(k);
    std::iota(order_.begin(), order_.end(), 0u);
    std::iota(pos_.begin(), pos_.end(), 0u);
    group_of_.assign(k, 0);
    begin_.assign(1, 0);
    end_.assign(1, k);
    marked_.assign(1, 0);
  }

  void split(const Bits256& classes) {
    for_each_member(classes, [&](uint32_t c) { mark(c); });
    for (uint32_t g : touched_) split_marked(g);
    touched_.clear();
  }

  // The groups in order of their lowest class, which lowest() then gives.
  const std::vector<uint32_t>& by_lowest() {
    lowest_.assign(begin_.size(), kNone);
    sorted_.clear();
    for (uint32_t c = 0; c < group_of_.size(); ++c) {
      const uint32_t g = group_of_[c];
      if (lowest_[g] != kNone) continue;
      lowest_[g] = c;
      sorted_.push_back(g);
    }
    return sorted_;
  }

  uint32_t lowest(uint32_t g) const { return lowest_[g]; }

  uint32_t group_of(uint32_t c) const { return group_of_[c]; }

  std::span<const uint32_t> members(uint32_t g) const {
    return std::span<const uint32_t>(order_).subspan(begin_[g], end_[g] - begin_[g]);
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Moves c to the marked front of its group.
  void mark(uint32_t c) {
    const uint32_t g = group_of_[c];
    if (marked_[g] == 0) touched_.push_back(g);
    const uint32_t to = begin_[g] + marked_[g]++;
    const uint32_t other = order_[to];
    std::swap(order_[to], order_[pos_[c]]);
    pos_[other] = pos_[c];
    pos_[c] = to;
  }

  // The marked front of group g becomes a group of its own, unless it is all
  // of g.
  void split_marked(uint32_t g) {
    const uint32_t m = marked_[g];
    marked_[g] = 0;
    if (m == end_[g] - begin_[g]) return;
    const auto ng = static_cast<uint32_t>(begin_.size());
    begin_.push_back(begin_[g]);
    end_.push_back(begin_[g] + m);
    marked_.push_back(0);
    begin_[g] += m;
    for (uint32_t i = begin_[ng]; i < end_[ng]; ++i) group_of_[order_[i]] = ng;
  }

  std::vector<uint32_t> order_, pos_;          // classes by group; each class's index in order_
  std::vector<uint32_t> group_of_;             // per class
  std::vector<uint32_t> begin_, end_, marked_; // per group: its range of order_; marked front
  std::vector<uint32_t> touched_;              // groups with marked classes
  std::vector<uint32_t> lowest_, sorted_;      // for by_lowest()
};

}  // namespace dnspc::regex::detail
