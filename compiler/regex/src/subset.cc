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
#include <unordered_map>

namespace dnspc::regex::detail {

namespace {

struct VectorHash {
  size_t operator()(const std::vector<uint32_t>& v) const {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t x : v) h = (h ^ x) * 0x100000001b3ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

class Determinizer {
 public:
  Determinizer(const Nfa& nfa, const SubsetLimits& limits, RawDfa& out)
      : nfa_(nfa), limits_(limits), out_(out) {}

  SubsetStatus run() {
    out_.classes = partition_bytes(nfa_.sets);
    classes_ = out_.classes.count();
    set_classes_.resize(nfa_.sets.size());
    for (size_t i = 0; i < nfa_.sets.size(); ++i) {
      for (uint32_t c = 0; c < classes_; ++c) {
        if (nfa_.sets[i].test(out_.classes.representative[c])) set_classes_[i].push_back(c);
      }
    }
    mark_.assign(nfa_.states.size(), 0);
    compute_live();

    // State 0: the empty set, dead. State 1: the start, kept apart from the
    // map because at position 0 ^ still holds.
    intern({});
    start_set_ = closure(nfa_.starts, true);
    keys_.push_back(&start_set_);
    out_.accepts.push_back(accepts_of(start_set_, true));
    out_.start = 1;

    std::vector<std::vector<uint32_t>> buckets(classes_);
    for (uint32_t s = 0; s < keys_.size(); ++s) {
      for (auto& b : buckets) b.clear();
      for (uint32_t q : *keys_[s]) {
        const NfaState& st = nfa_.states[q];
        if (st.kind == NfaKind::kBytes) {
          for (uint32_t c : set_classes_[st.set]) buckets[c].push_back(st.out);
          work_ += set_classes_[st.set].size();
        } else if (st.kind == NfaKind::kMatch) {
          for (auto& b : buckets) b.push_back(q);
          work_ += classes_;
        }
      }
      for (uint32_t c = 0; c < classes_; ++c) {
        uint32_t target = buckets[c].empty() ? 0 : intern(closure(buckets[c], false));
        if (target == kNoState) return SubsetStatus::kTooManyStates;
        out_.next.push_back(target);
      }
      if (work_ > limits_.max_work) return SubsetStatus::kTooMuchWork;
    }
    out_.state_count = static_cast<uint32_t>(keys_.size());
    return SubsetStatus::kOk;
  }

 private:
  // Which states can still reach their match state without a ^ edge.
  void compute_live() {
    std::vector<std::vector<uint32_t>> preds(nfa_.states.size());
    for (uint32_t q = 0; q < nfa_.states.size(); ++q) {
      const NfaState& st = nfa_.states[q];
      if (st.kind == NfaKind::kTextStart || st.kind == NfaKind::kMatch) continue;
      if (st.out != kNoState) preds[st.out].push_back(q);
      if (st.out2 != kNoState) preds[st.out2].push_back(q);
    }
    live_.assign(nfa_.states.size(), false);
    std::vector<uint32_t> stack(nfa_.matches.begin(), nfa_.matches.end());
    for (uint32_t m : stack) live_[m] = true;
    while (!stack.empty()) {
      uint32_t q = stack.back();
      stack.pop_back();
      for (uint32_t p : preds[q]) {
        if (!live_[p]) {
          live_[p] = true;
          stack.push_back(p);
        }
      }
    }
  }

  // The states that matter, reached from `seeds` by epsilon moves, pruned and
  // sorted (the set is the state's identity).
  std::vector<uint32_t> closure(const std::vector<uint32_t>& seeds, bool at_start) {
    ++generation_;
    std::vector<uint32_t> set;
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
          if (at_start || live_[q]) set.push_back(q);
          break;
      }
    }
    if (any_matched) {
      matched_.assign(nfa_.matches.size(), false);
      for (uint32_t q : set) {
        if (nfa_.states[q].kind == NfaKind::kMatch) matched_[nfa_.states[q].pattern] = true;
      }
      std::erase_if(set, [&](uint32_t q) {
        return matched_[nfa_.states[q].pattern] && nfa_.states[q].kind != NfaKind::kMatch;
      });
    }
    std::sort(set.begin(), set.end());
    return set;
  }

  // Patterns that match if the text ends in a state with this set.
  std::vector<uint32_t> accepts_of(const std::vector<uint32_t>& set, bool at_start) {
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
  uint32_t intern(std::vector<uint32_t> set) {
    work_ += set.size();
    auto it = ids_.find(set);
    if (it != ids_.end()) return it->second;
    if (keys_.size() >= limits_.max_states) return kNoState;
    const uint32_t id = static_cast<uint32_t>(keys_.size());
    out_.accepts.push_back(accepts_of(set, false));
    // Map nodes never move, so the state's key can live in the map alone.
    keys_.push_back(&ids_.emplace(std::move(set), id).first->first);
    return id;
  }

  const Nfa& nfa_;
  const SubsetLimits& limits_;
  RawDfa& out_;
  uint32_t classes_ = 0;
  std::vector<std::vector<uint32_t>> set_classes_;  // per NFA set: classes it holds
  std::vector<bool> live_;
  std::vector<bool> matched_;
  std::vector<uint32_t> mark_;
  uint32_t generation_ = 0;
  std::vector<uint32_t> stack_;
  std::vector<uint32_t> start_set_;
  std::vector<const std::vector<uint32_t>*> keys_;  // per DFA state: its NFA set
  std::unordered_map<std::vector<uint32_t>, uint32_t, VectorHash> ids_;
  uint64_t work_ = 0;
};

}  // namespace

SubsetStatus determinize(const Nfa& nfa, const SubsetLimits& limits, RawDfa& out) {
  return Determinizer(nfa, limits, out).run();
}

}  // namespace dnspc::regex::detail
