// State order: the dead state 0, the other sinks, then the rest; within each
// group, breadth-first from the start. The order depends only on the
// language, so equivalent regexes give identical tables, and the match loop
// can stop with one compare (state < sink_count).
#include "emit_table.h"

#include <map>

namespace dnspc::regex::detail {

DfaTable emit_table(const RawDfa& dfa, const Partition& partition, uint32_t pattern_count) {
  const uint32_t k = dfa.classes.count();
  const uint32_t blocks = partition.block_count;

  std::vector<uint32_t> rep(blocks, UINT32_MAX);
  for (uint32_t q = 0; q < dfa.state_count; ++q) {
    uint32_t& r = rep[partition.block_of[q]];
    if (r == UINT32_MAX) r = q;
  }
  auto block_next = [&](uint32_t b, uint32_t c) {
    return partition.block_of[dfa.next[size_t{rep[b]} * k + c]];
  };
  auto is_sink = [&](uint32_t b) {
    for (uint32_t c = 0; c < k; ++c) {
      if (block_next(b, c) != b) return false;
    }
    return true;
  };

  // Breadth-first from the start; the dead block may be unreachable but is
  // always present.
  const uint32_t dead = partition.block_of[0];
  std::vector<uint32_t> bfs{partition.block_of[dfa.start]};
  std::vector<bool> seen(blocks, false);
  seen[bfs[0]] = true;
  for (size_t i = 0; i < bfs.size(); ++i) {
    for (uint32_t c = 0; c < k; ++c) {
      uint32_t t = block_next(bfs[i], c);
      if (!seen[t]) {
        seen[t] = true;
        bfs.push_back(t);
      }
    }
  }
  std::vector<uint32_t> order{dead};
  for (uint32_t b : bfs) {
    if (b != dead && is_sink(b)) order.push_back(b);
  }
  const uint32_t sink_count = static_cast<uint32_t>(order.size());
  for (uint32_t b : bfs) {
    if (b != dead && !is_sink(b)) order.push_back(b);
  }
  std::vector<uint32_t> new_id(blocks, UINT32_MAX);
  for (uint32_t i = 0; i < order.size(); ++i) new_id[order[i]] = i;

  // Merge classes whose columns are equal; number them by first byte.
  std::map<std::vector<uint32_t>, uint32_t> column_ids;
  std::vector<uint32_t> merged(k);
  std::vector<uint32_t> merged_rep;
  std::vector<int> class_done(k, 0);
  for (unsigned b = 0; b < 256; ++b) {
    const uint32_t c = dfa.classes.of_byte[b];
    if (class_done[c]) continue;
    class_done[c] = 1;
    std::vector<uint32_t> column(order.size());
    for (uint32_t i = 0; i < order.size(); ++i) column[i] = new_id[block_next(order[i], c)];
    auto [it, inserted] = column_ids.try_emplace(std::move(column), static_cast<uint32_t>(merged_rep.size()));
    if (inserted) merged_rep.push_back(c);
    merged[c] = it->second;
  }

  DfaTable t;
  t.state_count = static_cast<uint32_t>(order.size());
  t.class_count = static_cast<uint32_t>(merged_rep.size());
  t.start = new_id[partition.block_of[dfa.start]];
  t.sink_count = sink_count;
  t.pattern_count = pattern_count;
  for (unsigned b = 0; b < 256; ++b) t.byte_class[b] = static_cast<uint8_t>(merged[dfa.classes.of_byte[b]]);
  t.next.resize(size_t{t.state_count} * t.class_count);
  t.accept_begin.push_back(0);
  for (uint32_t i = 0; i < order.size(); ++i) {
    for (uint32_t mc = 0; mc < t.class_count; ++mc) {
      t.next[size_t{i} * t.class_count + mc] = static_cast<uint16_t>(new_id[block_next(order[i], merged_rep[mc])]);
    }
    const std::vector<uint32_t>& ids = dfa.accepts[rep[order[i]]];
    t.accepting.push_back(ids.empty() ? 0 : 1);
    t.accept_ids.insert(t.accept_ids.end(), ids.begin(), ids.end());
    t.accept_begin.push_back(static_cast<uint32_t>(t.accept_ids.size()));
  }
  return t;
}

}  // namespace dnspc::regex::detail
