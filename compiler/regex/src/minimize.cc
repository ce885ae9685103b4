// Hopcroft's algorithm, O(k n log n): refine the partition by accept set
// using each block as a splitter for each class, and of the two halves of a
// split re-queue only the smaller unless the block was queued anyway.
// Blocks are ranges of one array `elems`, so a split is a few swaps.
#include "minimize.h"

#include <algorithm>
#include <map>

namespace dnspc::regex::detail {

Partition minimize(const RawDfa& dfa) {
  const uint32_t n = dfa.state_count;
  const uint32_t k = dfa.classes.count();

  // Predecessors of (target, class), as offsets into `preds`.
  std::vector<uint32_t> pred_begin(size_t{n} * k + 1, 0);
  for (uint32_t q = 0; q < n; ++q) {
    for (uint32_t c = 0; c < k; ++c) ++pred_begin[size_t{dfa.next[size_t{q} * k + c]} * k + c + 1];
  }
  for (size_t i = 1; i < pred_begin.size(); ++i) pred_begin[i] += pred_begin[i - 1];
  std::vector<uint32_t> preds(pred_begin.back());
  {
    std::vector<uint32_t> fill(pred_begin.begin(), pred_begin.end() - 1);
    for (uint32_t q = 0; q < n; ++q) {
      for (uint32_t c = 0; c < k; ++c) preds[fill[size_t{dfa.next[size_t{q} * k + c]} * k + c]++] = q;
    }
  }

  // Initial blocks: one per distinct accept set.
  Partition p;
  p.block_of.resize(n);
  std::map<std::vector<uint32_t>, uint32_t> by_accepts;
  for (uint32_t q = 0; q < n; ++q) {
    auto [it, inserted] = by_accepts.try_emplace(dfa.accepts[q], static_cast<uint32_t>(by_accepts.size()));
    p.block_of[q] = it->second;
  }
  p.block_count = static_cast<uint32_t>(by_accepts.size());

  std::vector<uint32_t> elems(n), loc(n);
  std::vector<uint32_t> begin(p.block_count + 1, 0), end;
  for (uint32_t q = 0; q < n; ++q) ++begin[p.block_of[q] + 1];
  for (uint32_t b = 1; b <= p.block_count; ++b) begin[b] += begin[b - 1];
  end.assign(begin.begin() + 1, begin.end());
  begin.pop_back();
  {
    std::vector<uint32_t> fill(begin);
    for (uint32_t q = 0; q < n; ++q) {
      loc[q] = fill[p.block_of[q]]++;
      elems[loc[q]] = q;
    }
  }

  std::vector<uint32_t> marked(p.block_count, 0);
  std::vector<bool> queued(p.block_count, true);
  std::vector<uint32_t> work(p.block_count);
  for (uint32_t b = 0; b < p.block_count; ++b) work[b] = b;

  std::vector<uint32_t> splitter, touched;
  while (!work.empty()) {
    const uint32_t a = work.back();
    work.pop_back();
    queued[a] = false;
    // The splitter is the block as it was when taken; it may split below.
    splitter.assign(elems.begin() + begin[a], elems.begin() + end[a]);
    for (uint32_t c = 0; c < k; ++c) {
      touched.clear();
      for (uint32_t t : splitter) {
        for (uint32_t i = pred_begin[size_t{t} * k + c]; i < pred_begin[size_t{t} * k + c + 1]; ++i) {
          // Move q to the marked front of its block (each q has one
          // successor per class, so it is seen at most once here).
          const uint32_t q = preds[i];
          const uint32_t b = p.block_of[q];
          if (marked[b] == 0) touched.push_back(b);
          const uint32_t to = begin[b] + marked[b]++;
          const uint32_t other = elems[to];
          std::swap(elems[to], elems[loc[q]]);
          loc[other] = loc[q];
          loc[q] = to;
        }
      }
      for (uint32_t b : touched) {
        const uint32_t m = marked[b];
        marked[b] = 0;
        if (m == end[b] - begin[b]) continue;
        const uint32_t nb = p.block_count++;
        begin.push_back(begin[b]);
        end.push_back(begin[b] + m);
        begin[b] += m;
        marked.push_back(0);
        for (uint32_t i = begin[nb]; i < end[nb]; ++i) p.block_of[elems[i]] = nb;
        const bool new_is_smaller = m <= end[b] - begin[b];
        queued.push_back(false);
        if (queued[b] || new_is_smaller) {
          work.push_back(nb);
          queued[nb] = true;
        } else {
          work.push_back(b);
          queued[b] = true;
        }
      }
    }
  }
  return p;
}

}  // namespace dnspc::regex::detail
