// State order: the dead state 0, the other sinks, then the rest; within each
// group, breadth-first from the start. The order depends only on the
// language, so equivalent regexes give identical tables, and the match loop
// can stop with one compare (state < sink_count).
//
// The minimal DFA is read through one representative state per block, and
// mostly through its sparse edges (RawDfa::edges): a block's edges in order
// visit its successors in the order its classes do, and transitions into
// the dead block are left out, which in an anchored search automaton is
// most of them.
#include "emit_table.h"

#include <span>

#include "class_groups.h"

namespace dnspc::regex::detail {

namespace {

class Blocks {
 public:
  Blocks(const RawDfa& dfa, const Partition& partition)
      : dfa_(dfa), block_of_(partition.block_of), rep_(partition.block_count, UINT32_MAX) {
    for (uint32_t q = 0; q < dfa.state_count; ++q) {
      uint32_t& r = rep_[block_of_[q]];
      if (r == UINT32_MAX) r = q;
    }
  }

  uint32_t count() const { return static_cast<uint32_t>(rep_.size()); }
  uint32_t of(uint32_t q) const { return block_of_[q]; }
  uint32_t dead() const { return block_of_[0]; }
  const std::vector<uint32_t>& accepts(uint32_t b) const { return dfa_.accepts[rep_[b]]; }

  std::span<const RawDfa::Edge> edges(uint32_t b) const {
    const uint32_t q = rep_[b];
    return std::span<const RawDfa::Edge>(dfa_.edges)
        .subspan(dfa_.edge_begin[q], dfa_.edge_begin[q + 1] - dfa_.edge_begin[q]);
  }

  // The representative's transitions, per class.
  const uint32_t* row(uint32_t b) const {
    return dfa_.next.data() + size_t{rep_[b]} * dfa_.classes.count();
  }

  // Every class leads back to b.
  bool is_sink(uint32_t b) const {
    Bits256 to_self{};
    for (const RawDfa::Edge& e : edges(b)) {
      if (of(e.target) == b) unite(to_self, e.classes);
    }
    return lowest_missing(to_self) >= dfa_.classes.count();
  }

 private:
  static uint32_t lowest_missing(const Bits256& s) {
    Bits256 missing;
    for (size_t w = 0; w < 4; ++w) missing[w] = ~s[w];
    return lowest(missing);
  }

  const RawDfa& dfa_;
  const std::vector<uint32_t>& block_of_;
  std::vector<uint32_t> rep_;  // per block: its first DFA state
};

// Blocks in table order: dead, the other sinks, the rest, each group
// breadth-first from the start. The dead block may be unreachable but is
// always present (and its place in the search does not matter).
std::vector<uint32_t> state_order(const Blocks& blocks, uint32_t start, uint32_t& sink_count) {
  const uint32_t dead = blocks.dead();
  std::vector<uint32_t> bfs;
  bfs.reserve(blocks.count());
  bfs.push_back(start);
  std::vector<uint8_t> seen(blocks.count(), 0);
  seen[start] = 1;
  seen[dead] = 1;
  for (size_t i = 0; i < bfs.size(); ++i) {
    for (const RawDfa::Edge& e : blocks.edges(bfs[i])) {
      const uint32_t t = blocks.of(e.target);
      if (!seen[t]) {
        seen[t] = 1;
        bfs.push_back(t);
      }
    }
  }
  std::vector<uint8_t> sink(blocks.count(), 0);
  for (uint32_t b : bfs) sink[b] = b != dead && blocks.is_sink(b);
  std::vector<uint32_t> order;
  order.reserve(bfs.size() + 1);
  order.push_back(dead);
  for (uint32_t b : bfs) {
    if (sink[b]) order.push_back(b);
  }
  sink_count = static_cast<uint32_t>(order.size());
  for (uint32_t b : bfs) {
    if (b != dead && !sink[b]) order.push_back(b);
  }
  return order;
}

// Classes merge when every state of the table moves on them to the same
// state: refine the classes by, for each state and each block it moves to
// other than the dead one, the classes that lead there. Merged classes are
// numbered in order of their first byte. Returns, per class, its merged
// class, and fills `merged_rep` with one class per merged class.
std::vector<uint32_t> merge_classes(const RawDfa& dfa, const Blocks& blocks,
                                    const std::vector<uint32_t>& order,
                                    std::vector<uint32_t>& merged_rep) {
  const uint32_t k = dfa.classes.count();
  ClassGroups groups;
  groups.reset(k);
  std::vector<uint32_t> slot_row(blocks.count(), UINT32_MAX), slot(blocks.count());
  std::vector<Bits256> by_target;  // the row's classes per target block
  for (uint32_t row = 0; row < order.size(); ++row) {
    by_target.clear();
    for (const RawDfa::Edge& e : blocks.edges(order[row])) {
      const uint32_t t = blocks.of(e.target);
      if (t == blocks.dead()) continue;
      if (slot_row[t] != row) {
        slot_row[t] = row;
        slot[t] = static_cast<uint32_t>(by_target.size());
        by_target.emplace_back();
      }
      unite(by_target[slot[t]], e.classes);
    }
    for (const Bits256& classes : by_target) groups.split(classes);
  }
  std::vector<uint32_t> merged(k, UINT32_MAX);
  std::vector<uint32_t> group_id(k, UINT32_MAX);  // group -> merged class (at most k groups)
  merged_rep.reserve(k);
  for (unsigned b = 0; b < 256; ++b) {
    const uint32_t c = dfa.classes.of_byte[b];
    if (merged[c] != UINT32_MAX) continue;
    uint32_t& id = group_id[groups.group_of(c)];
    if (id == UINT32_MAX) {
      id = static_cast<uint32_t>(merged_rep.size());
      merged_rep.push_back(c);
    }
    merged[c] = id;
  }
  return merged;
}

}  // namespace

DfaTable emit_table(const RawDfa& dfa, const Partition& partition, uint32_t pattern_count) {
  const Blocks blocks(dfa, partition);
  uint32_t sink_count = 0;
  const std::vector<uint32_t> order = state_order(blocks, blocks.of(dfa.start), sink_count);
  std::vector<uint32_t> new_id(blocks.count(), UINT32_MAX);
  for (uint32_t i = 0; i < order.size(); ++i) new_id[order[i]] = i;
  std::vector<uint32_t> merged_rep;
  const std::vector<uint32_t> merged = merge_classes(dfa, blocks, order, merged_rep);

  DfaTable t;
  t.state_count = static_cast<uint32_t>(order.size());
  t.class_count = static_cast<uint32_t>(merged_rep.size());
  t.start = new_id[blocks.of(dfa.start)];
  t.sink_count = sink_count;
  t.pattern_count = pattern_count;
  for (unsigned b = 0; b < 256; ++b) t.byte_class[b] = static_cast<uint8_t>(merged[dfa.classes.of_byte[b]]);
  t.next.resize(size_t{t.state_count} * t.class_count);
  t.accepting.reserve(t.state_count);
  t.accept_begin.reserve(t.state_count + 1);
  t.accept_begin.push_back(0);
  // Per DFA state, the table state of its block.
  std::vector<uint16_t> table_id(dfa.state_count);
  for (uint32_t q = 0; q < dfa.state_count; ++q)
    table_id[q] = static_cast<uint16_t>(new_id[blocks.of(q)]);
  for (uint32_t i = 0; i < order.size(); ++i) {
    const uint32_t* from = blocks.row(order[i]);
    uint16_t* to = t.next.data() + size_t{i} * t.class_count;
    for (uint32_t mc = 0; mc < t.class_count; ++mc) to[mc] = table_id[from[merged_rep[mc]]];
    const std::vector<uint32_t>& ids = blocks.accepts(order[i]);
    t.accepting.push_back(ids.empty() ? 0 : 1);
    t.accept_ids.insert(t.accept_ids.end(), ids.begin(), ids.end());
    t.accept_begin.push_back(static_cast<uint32_t>(t.accept_ids.size()));
  }
  return t;
}

}  // namespace dnspc::regex::detail

