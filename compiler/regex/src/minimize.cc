// Hopcroft's algorithm over the sparse transitions (RawDfa::edges): start
// from the partition by accept set, and refine it using each block as a
// splitter until no block tells two states of another apart. Blocks are
// ranges of one array `elems_`, so a split is a few swaps.
//
// Refining by splitter A for every class at once is refining by each state's
// "signature", the set of classes on which it moves into A: that is what
// per-class refinement produces too, one class after another. An edge
// carries its classes as a bit mask, so a splitter costs one OR per edge into
// it rather than a pass per class. A block may split into several parts; the
// largest keeps the block's id and queue status and every other part is
// queued. That is Hopcroft's "all but the largest" rule (a partition stable
// against a block and all but one of its parts is stable against that part
// too), so each edge is walked O(log n) times.
//
// States that can never reach acceptance (the dead state 0, and any state
// that only leads to dead ones) are all equivalent: they form block 0, which
// is never split nor used as a splitter, and the edges leave out moves to
// state 0. That leaves a partial transition function, for which the rule
// above still holds (a state has at most one successor per class, so
// pre(B \ B1) = pre(B) \ pre(B1)) as long as every initial live block is
// queued. Stability against block 0 then follows from stability against all
// the others.
#include "minimize.h"

#include <algorithm>
#include <span>

#include "id_table.h"

namespace dnspc::regex::detail {

namespace {

class Refiner {
 public:
  explicit Refiner(const RawDfa& dfa) : dfa_(dfa) {}

  Partition run() {
    index_incoming();
    initial_blocks();
    signature_.resize(dfa_.state_count);
    signed_.assign(dfa_.state_count, 0);
    touched_.reserve(dfa_.state_count);
    while (!work_.empty()) {
      const uint32_t a = work_.back();
      work_.pop_back();
      queued_[a] = 0;
      split_by(a);
    }
    return std::move(p_);
  }

 private:
  struct Incoming {
    uint32_t from, edge;  // edge: index into dfa_.edges
  };

  std::span<const Incoming> incoming(uint32_t t) const {
    return std::span<const Incoming>(in_).subspan(in_begin_[t], in_begin_[t + 1] - in_begin_[t]);
  }

  // Edges by target (counting sort), for walking them backwards.
  void index_incoming() {
    const uint32_t n = dfa_.state_count;
    in_begin_.assign(size_t{n} + 1, 0);
    for (const RawDfa::Edge& e : dfa_.edges) ++in_begin_[e.target + 1];
    for (uint32_t q = 1; q <= n; ++q) in_begin_[q] += in_begin_[q - 1];
    in_.resize(dfa_.edges.size());
    std::vector<uint32_t> fill(in_begin_.begin(), in_begin_.end() - 1);
    for (uint32_t q = 0; q < n; ++q) {
      for (uint32_t e = dfa_.edge_begin[q]; e < dfa_.edge_begin[q + 1]; ++e) {
        in_[fill[dfa_.edges[e].target]++] = {q, e};
      }
    }
  }

  // States from which some text leads to acceptance.
  std::vector<uint8_t> live_states() const {
    std::vector<uint8_t> live(dfa_.state_count, 0);
    std::vector<uint32_t> stack;
    for (uint32_t q = 0; q < dfa_.state_count; ++q) {
      if (!dfa_.accepts[q].empty()) {
        live[q] = 1;
        stack.push_back(q);
      }
    }
    while (!stack.empty()) {
      const uint32_t t = stack.back();
      stack.pop_back();
      for (const Incoming& i : incoming(t)) {
        if (!live[i.from]) {
          live[i.from] = 1;
          stack.push_back(i.from);
        }
      }
    }
    return live;
  }

  // Block 0 holds the states that cannot reach acceptance (there is always
  // one: state 0); then one block per distinct accept set among the others,
  // all queued.
  void initial_blocks() {
    const uint32_t n = dfa_.state_count;
    const std::vector<uint8_t> live = live_states();
    p_.block_of.assign(n, 0);
    p_.block_count = 1;
    IdTable by_accepts;
    std::vector<uint32_t> first_state;  // per live block b: a state with its accept set, at b - 1
    for (uint32_t q = 0; q < n; ++q) {
      if (!live[q]) continue;
      const std::vector<uint32_t>& acc = dfa_.accepts[q];
      const uint64_t h = hash_sequence(std::span<const uint32_t>(acc));
      uint32_t b =
          by_accepts.find(h, [&](uint32_t id) { return dfa_.accepts[first_state[id - 1]] == acc; });
      if (b == IdTable::kNone) {
        b = p_.block_count++;
        by_accepts.insert(h, b);
        first_state.push_back(q);
      }
      p_.block_of[q] = b;
    }
    layout_blocks();
    for (uint32_t b = 1; b < p_.block_count; ++b) {
      work_.push_back(b);
      queued_[b] = 1;
    }
  }

  // Lays the blocks out in `elems_`, in block order.
  void layout_blocks() {
    const uint32_t n = dfa_.state_count;
    begin_.assign(p_.block_count + 1, 0);
    for (uint32_t q = 0; q < n; ++q) ++begin_[p_.block_of[q] + 1];
    for (uint32_t b = 1; b <= p_.block_count; ++b) begin_[b] += begin_[b - 1];
    end_.assign(begin_.begin() + 1, begin_.end());
    begin_.pop_back();
    elems_.resize(n);
    loc_.resize(n);
    std::vector<uint32_t> fill(begin_);
    for (uint32_t q = 0; q < n; ++q) {
      loc_[q] = fill[p_.block_of[q]]++;
      elems_[loc_[q]] = q;
    }
    queued_.assign(p_.block_count, 0);
    // Splits only ever add blocks, up to one per state.
    begin_.reserve(n);
    end_.reserve(n);
    queued_.reserve(n);
    work_.reserve(n);
  }

  // Refines every block by the signatures of its states against block `a`
  // (as `a` was when taken: it may split below).
  void split_by(uint32_t a) {
    sign(a);
    // Touched states by block, then by signature.
    std::sort(touched_.begin(), touched_.end(), [&](uint32_t x, uint32_t y) {
      if (p_.block_of[x] != p_.block_of[y]) return p_.block_of[x] < p_.block_of[y];
      return signature_[x] < signature_[y];
    });
    for (size_t i = 0; i < touched_.size();) {
      size_t j = i + 1;
      while (j < touched_.size() && p_.block_of[touched_[j]] == p_.block_of[touched_[i]]) ++j;
      split_block(p_.block_of[touched_[i]], std::span<const uint32_t>(touched_).subspan(i, j - i));
      i = j;
    }
    for (uint32_t q : touched_) signed_[q] = 0;
  }

  // Computes the signature of every state with an edge into block `a`, and
  // lists those states in touched_.
  void sign(uint32_t a) {
    touched_.clear();
    for (uint32_t i = begin_[a]; i < end_[a]; ++i) {
      for (const Incoming& in : incoming(elems_[i])) {
        Bits256& s = signature_[in.from];
        if (!signed_[in.from]) {
          signed_[in.from] = 1;
          touched_.push_back(in.from);
          s = Bits256{};
        }
        unite(s, dfa_.edges[in.edge].classes);
      }
    }
  }

  // Splits block `b` by signature; `touched` (sorted by signature) are its
  // states that have one, the rest have none.
  void split_block(uint32_t b, std::span<const uint32_t> touched) {
    const uint32_t base = begin_[b];
    const auto marked = static_cast<uint32_t>(touched.size());
    if (marked == end_[b] - base && signature_[touched.front()] == signature_[touched.back()]) return;
    // Touched states to the front, in signature order; the rest after them.
    for (uint32_t j = 0; j < marked; ++j) move_to(touched[j], base + j);
    parts_.clear();
    for (uint32_t i = 0; i < marked;) {
      uint32_t j = i + 1;
      while (j < marked && signature_[touched[j]] == signature_[touched[i]]) ++j;
      parts_.push_back({base + i, base + j});
      i = j;
    }
    if (base + marked < end_[b]) parts_.push_back({base + marked, end_[b]});
    // The largest part keeps id b (and its queue status); the others are new
    // blocks, all queued.
    const auto largest = std::max_element(
        parts_.begin(), parts_.end(),
        [](const Range& x, const Range& y) { return x.end - x.begin < y.end - y.begin; });
    begin_[b] = largest->begin;
    end_[b] = largest->end;
    for (auto part = parts_.begin(); part != parts_.end(); ++part) {
      if (part != largest) new_block(*part);
    }
  }

  struct Range {
    uint32_t begin, end;
  };

  void new_block(Range r) {
    const uint32_t nb = p_.block_count++;
    begin_.push_back(r.begin);
    end_.push_back(r.end);
    for (uint32_t i = r.begin; i < r.end; ++i) p_.block_of[elems_[i]] = nb;
    queued_.push_back(1);
    work_.push_back(nb);
  }

  // Swaps q into position `to` of elems_.
  void move_to(uint32_t q, uint32_t to) {
    const uint32_t other = elems_[to];
    std::swap(elems_[to], elems_[loc_[q]]);
    loc_[other] = loc_[q];
    loc_[q] = to;
  }

  const RawDfa& dfa_;
  std::vector<uint32_t> in_begin_;  // per state: its range of in_
  std::vector<Incoming> in_;
  Partition p_;
  std::vector<uint32_t> elems_, loc_;  // states by block; each state's index in elems_
  std::vector<uint32_t> begin_, end_;  // per block: its range of elems_
  std::vector<uint8_t> queued_;
  std::vector<uint32_t> work_;  // blocks waiting to serve as splitters
  // The splitter being applied: per state, whether it has a signature and
  // which; the states that have one; the parts of the block being split.
  std::vector<Bits256> signature_;
  std::vector<uint8_t> signed_;
  std::vector<uint32_t> touched_;
  std::vector<Range> parts_;
};

}  // namespace

Partition minimize(const RawDfa& dfa) { return Refiner(dfa).run(); }

}  // namespace dnspc::regex::detail
