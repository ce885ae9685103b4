// A DFA state is the set of NFA states that matter after reading some text:
// byte-consuming states, match states and $ states (which decide acceptance
// at the end of the text). Two pruning rules keep sets, and so the DFA,
// small without changing any answer:
// - a pattern whose match state is in the set has matched for good, so its
//   other states are dropped (for one pattern, that set is the accept sink);
// - after the first byte, ^ can no longer hold, so states that cannot reach
//   their match state without passing a ^ are dropped (for ^-anchored
//   patterns that reaches the dead state at the first mismatch).
#include "subset.h"

#include <algorithm>
#include <span>

#include "bits256.h"
#include "id_table.h"
#include "move_groups.h"

namespace dnspc::regex::detail {

namespace {

using Span = std::span<const uint32_t>;

bool same(Span a, Span b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

class Determinizer {
 public:
  // out.classes must be set.
  Determinizer(const Nfa& nfa, const SubsetLimits& limits, RawDfa& out)
      : nfa_(nfa),
        limits_(limits),
        out_(out),
        classes_(out.classes.count()),
        grouper_(nfa.sets, out.classes) {}

  SubsetStatus run() {
    mark_.assign(nfa_.states.size(), 0);
    compute_live();
    reserve();

    // State 0: the empty set, dead. State 1: the start, kept out of the
    // table because at position 0 ^ still holds (no later set may map to it).
    intern({});
    closure(nfa_.starts, true);
    out_.accepts.push_back(accepts_of(closure_, true));
    append_set(closure_);
    out_.start = 1;

    for (uint32_t s = 0; s < state_count(); ++s) {
      if (!expand(s)) return SubsetStatus::kTooManyStates;
      if (work_ > limits_.max_work) return SubsetStatus::kTooMuchWork;
    }
    out_.state_count = state_count();
    return SubsetStatus::kOk;
  }

 private:
  // Typical patterns have about as many DFA states as NFA states; room for
  // that (within reason) saves regrowing every output vector many times.
  void reserve() {
    const size_t states =
        std::min<size_t>(nfa_.states.size() + 2, std::min(limits_.max_states, 1024u));
    set_begin_.reserve(states + 1);
    sets_.reserve(4 * states);
    ids_.clear(states);
    out_.next.reserve(states * classes_);
    out_.accepts.reserve(states);
    out_.edge_begin.reserve(states + 1);
    out_.edges.reserve(4 * states);
    stack_.reserve(64);
    closure_.reserve(64);
    moves_.reserve(16);
    edge_from_.reserve(states);
    edge_index_.reserve(states);
  }

  uint32_t state_count() const { return static_cast<uint32_t>(set_begin_.size() - 1); }

  Span state_set(uint32_t s) const {
    return Span(sets_).subspan(set_begin_[s], set_begin_[s + 1] - set_begin_[s]);
  }

  void append_set(Span set) {
    sets_.insert(sets_.end(), set.begin(), set.end());
    set_begin_.push_back(static_cast<uint32_t>(sets_.size()));
  }

  // Which states can still reach their match state without a ^ edge.
  void compute_live() {
    const size_t n = nfa_.states.size();
    // Predecessors over every edge but those out of ^ and match states, as
    // one array in target order (counting sort: no vector per state).
    std::vector<uint32_t> begin(n + 1, 0), preds;
    auto for_each_edge = [&](auto&& f) {
      for (uint32_t q = 0; q < n; ++q) {
        const NfaState& st = nfa_.states[q];
        if (st.kind == NfaKind::kTextStart || st.kind == NfaKind::kMatch) continue;
        if (st.out != kNoState) f(q, st.out);
        if (st.out2 != kNoState) f(q, st.out2);
      }
    };
    for_each_edge([&](uint32_t, uint32_t to) { ++begin[to + 1]; });
    for (size_t i = 1; i <= n; ++i) begin[i] += begin[i - 1];
    preds.resize(begin[n]);
    std::vector<uint32_t> fill(begin.begin(), begin.end() - 1);
    for_each_edge([&](uint32_t from, uint32_t to) { preds[fill[to]++] = from; });

    live_.assign(n, 0);
    std::vector<uint32_t> stack(nfa_.matches.begin(), nfa_.matches.end());
    for (uint32_t m : stack) live_[m] = 1;
    while (!stack.empty()) {
      uint32_t q = stack.back();
      stack.pop_back();
      for (uint32_t i = begin[q]; i < begin[q + 1]; ++i) {
        if (!live_[preds[i]]) {
          live_[preds[i]] = 1;
          stack.push_back(preds[i]);
        }
      }
    }
  }

  // Appends state `s`'s row of transitions, one per class; false past the
  // state budget.
  //
  // Classes that the same moves apply to lead to the same state, so each
  // such group (see move_groups.h) takes one closure. Groups go in order of
  // their lowest class, which creates new states in the order a
  // class-by-class pass would. The work budget is charged as for that pass
  // (the moves of every class, and each closure and lookup as if repeated
  // per class), so which patterns fit it does not depend on the grouping.
  bool expand(uint32_t s) {
    list_moves(s);
    grouper_.group(moves_);
    const size_t row = out_.next.size();
    out_.next.resize(row + classes_, 0);  // no moves: the dead state
    for (const MoveGroup& group : grouper_.groups()) {
      const Span seeds = grouper_.seeds(group);
      if (seeds.empty()) continue;
      const uint64_t before = work_;
      closure(seeds, false);
      const uint64_t repeat_work = work_ - before + closure_.size();
      const uint32_t target = intern(closure_);
      if (target == kNoState) return false;
      uint32_t size = 0;
      for_each_member(group.classes, [&](uint32_t c) {
        out_.next[row + c] = target;
        ++size;
      });
      work_ += (size - 1) * repeat_work;
      add_edge(s, target, group.classes);
    }
    out_.edge_begin.push_back(static_cast<uint32_t>(out_.edges.size()));
    return true;
  }

  // The moves of state `s`'s members, charging one unit of work per class
  // each covers.
  void list_moves(uint32_t s) {
    moves_.clear();
    for (uint32_t q : state_set(s)) {
      const NfaState& st = nfa_.states[q];
      if (st.kind == NfaKind::kBytes) {
        moves_.push_back({st.set, st.out});
      } else if (st.kind == NfaKind::kMatch) {
        moves_.push_back({Move::kEveryClass, q});
      } else {
        continue;
      }
      work_ += grouper_.class_count(moves_.back().set);
    }
  }

  // One edge per target: groups with different moves can still reach the
  // same state (every branch of (a|b|c)d continues at d).
  void add_edge(uint32_t s, uint32_t target, const Bits256& classes) {
    if (target == 0) return;
    if (edge_from_.size() <= target) {
      edge_from_.resize(state_count(), kNoState);
      edge_index_.resize(state_count());
    }
    if (edge_from_[target] == s) {
      unite(out_.edges[edge_index_[target]].classes, classes);
      return;
    }
    edge_from_[target] = s;
    edge_index_[target] = static_cast<uint32_t>(out_.edges.size());
    out_.edges.push_back({target, classes});
  }

  // The states that matter, reached from `seeds` by epsilon moves, pruned and
  // sorted (the set is the state's identity), into closure_.
  void closure(Span seeds, bool at_start) {
    ++generation_;
    closure_.clear();
    stack_.assign(seeds.begin(), seeds.end());
    bool any_matched = false;
    while (!stack_.empty()) {
      const uint32_t q = stack_.back();
      stack_.pop_back();
      if (mark_[q] == generation_) continue;
      mark_[q] = generation_;
      ++work_;
      const NfaState& st = nfa_.states[q];
      switch (st.kind) {
        case NfaKind::kSplit:
          stack_.push_back(st.out);
          if (st.out2 != kNoState) stack_.push_back(st.out2);
          break;
        case NfaKind::kTextStart:
          if (at_start) stack_.push_back(st.out);
          break;
        case NfaKind::kMatch: any_matched = true; [[fallthrough]];
        case NfaKind::kBytes:
        case NfaKind::kTextEnd:
          if (at_start || live_[q]) closure_.push_back(q);
          break;
      }
    }
    if (any_matched) drop_matched_patterns();
    std::sort(closure_.begin(), closure_.end());
  }

  // A pattern whose match state is in the set has matched for good.
  void drop_matched_patterns() {
    matched_.assign(nfa_.matches.size(), false);
    for (uint32_t q : closure_) {
      if (nfa_.states[q].kind == NfaKind::kMatch) matched_[nfa_.states[q].pattern] = true;
    }
    std::erase_if(closure_, [&](uint32_t q) {
      return matched_[nfa_.states[q].pattern] && nfa_.states[q].kind != NfaKind::kMatch;
    });
  }

  // Patterns that match if the text ends in a state with this set.
  std::vector<uint32_t> accepts_of(Span set, bool at_start) {
    std::vector<uint32_t> ids;
    ++generation_;
    stack_.clear();
    for (uint32_t q : set) {
      const NfaState& st = nfa_.states[q];
      if (st.kind == NfaKind::kMatch) ids.push_back(st.pattern);
      if (st.kind == NfaKind::kTextEnd) stack_.push_back(st.out);
    }
    while (!stack_.empty()) {
      const uint32_t q = stack_.back();
      stack_.pop_back();
      if (mark_[q] == generation_) continue;
      mark_[q] = generation_;
      ++work_;
      const NfaState& st = nfa_.states[q];
      switch (st.kind) {
        case NfaKind::kSplit:
          stack_.push_back(st.out);
          if (st.out2 != kNoState) stack_.push_back(st.out2);
          break;
        case NfaKind::kTextStart:
          if (at_start) stack_.push_back(st.out);
          break;
        case NfaKind::kTextEnd: stack_.push_back(st.out); break;
        case NfaKind::kMatch: ids.push_back(st.pattern); break;
        case NfaKind::kBytes: break;  // the text has ended
      }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  }

  // The DFA state for `set`, created if new; kNoState past the budget.
  uint32_t intern(Span set) {
    work_ += set.size();
    const uint64_t h = hash_sequence(set);
    const uint32_t found = ids_.find(h, [&](uint32_t id) { return same(state_set(id), set); });
    if (found != IdTable::kNone) return found;
    if (state_count() >= limits_.max_states) return kNoState;
    const uint32_t id = state_count();
    out_.accepts.push_back(accepts_of(set, false));
    append_set(set);
    ids_.insert(h, id);
    return id;
  }

  const Nfa& nfa_;
  const SubsetLimits& limits_;
  RawDfa& out_;
  const uint32_t classes_;
  MoveGrouper grouper_;
  std::vector<uint8_t> live_;
  std::vector<bool> matched_;
  std::vector<uint32_t> mark_;
  uint32_t generation_ = 0;
  std::vector<uint32_t> stack_;
  std::vector<uint32_t> closure_;
  // Per DFA state: its NFA set, as ranges of one array.
  std::vector<uint32_t> set_begin_{0}, sets_;
  IdTable ids_;  // NFA set -> DFA state, except the start
  // The state being expanded: its members' moves; per target state, the
  // last state with an edge to it and that edge.
  std::vector<Move> moves_;
  std::vector<uint32_t> edge_from_, edge_index_;
  uint64_t work_ = 0;
};

}  // namespace

SubsetStatus determinize(const Nfa& nfa, const SubsetLimits& limits, RawDfa& out) {
  out.classes = partition_bytes(nfa.sets);
  return Determinizer(nfa, limits, out).run();
}

}  // namespace dnspc::regex::detail
