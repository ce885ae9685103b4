// Tables and shapes for native code: the part of code generation that is
// plain data (docs/jit.md).
#include "dnspc/codegen/policy_data.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <span>
#include <unordered_map>

namespace dnspc::codegen {

namespace {

using ir::TestKind;
using opt::TestSource;

bool is_fact(TestSource s) {
  return s == TestSource::kNames || s == TestSource::kSources || s == TestSource::kDestinations ||
         s == TestSource::kQtypes || s == TestSource::kRegexUnion || s == TestSource::kRegexLazy;
}

bool has_compare(TestKind k) {
  return k == TestKind::kLabelCount || k == TestKind::kNameLength || k == TestKind::kEdnsVersion ||
         k == TestKind::kEdnsPayload || k == TestKind::kSize || k == TestKind::kResponseRcode ||
         k == TestKind::kAnswerCount || k == TestKind::kLatency || k == TestKind::kResponseSize;
}

NativeDfa native_dfa(const DfaTable& t) {
  NativeDfa d;
  d.next = t.next.data();
  d.byte_class = t.byte_class.data();
  d.accepting = t.accepting.data();
  d.class_count = t.class_count;
  d.start = t.start;
  d.sink_count = t.sink_count;
  return d;
}

uint32_t u32(size_t n) {
  return static_cast<uint32_t>(n);
}

// Upper bounds of what a probe can report for one query; the scratch buffer
// is sized from them, so it cannot overflow.

// name_probe: the SUFFIX ids of at most kMaxLabels + 1 keys (one per label
// suffix of the name) and the EXACT ids of one of them, so at most the sum of
// the kMaxLabels + 1 largest per-key totals; and never more than the
// distinct ids.
uint32_t name_bound(const NameIndex& x) {
  std::vector<uint32_t> per_key;
  per_key.reserve(x.key_count);
  for (uint32_t k = 0; k < x.key_count; ++k)
    per_key.push_back(x.id_begin[2 * k + 2] - x.id_begin[2 * k]);
  const size_t take = std::min<size_t>(per_key.size(), kMaxLabels + 1);
  std::partial_sort(per_key.begin(), per_key.begin() + static_cast<ptrdiff_t>(take), per_key.end(),
                    std::greater<>());
  uint64_t sum = 0;
  for (size_t i = 0; i < take; ++i) sum += per_key[i];
  std::vector<uint32_t> distinct = x.ids;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  return u32(std::min<uint64_t>(sum, distinct.size()));
}

// prefix_probe: one group per table of the address's family, so at most the
// sum over that family's tables of the largest group in each.
uint32_t prefix_family_bound(const PrefixIndex& x, const std::vector<PrefixTable>& tables,
                             const std::vector<uint32_t>& slots, uint32_t slot_words) {
  uint64_t sum = 0;
  for (const PrefixTable& t : tables) {
    uint32_t largest = 0;
    for (uint32_t s = 0; s <= t.slot_mask; ++s) {
      const uint32_t g1 = slots[(size_t{t.slot_begin} + s) * slot_words + slot_words - 1];
      if (g1 != 0) largest = std::max(largest, x.group_begin[g1] - x.group_begin[g1 - 1]);
    }
    sum += largest;
  }
  return u32(sum);
}

uint32_t prefix_bound(const PrefixIndex& x) {
  return std::max(prefix_family_bound(x, x.v4_tables, x.v4_slots, kPrefixV4SlotWords),
                  prefix_family_bound(x, x.v6_tables, x.v6_slots, kPrefixV6SlotWords));
}

// The name filter: empty (no filter) when the root is a key, since it is a
// suffix of every name. A key that matches a name is a byte suffix of it, so
// both end with the same two bytes before the root byte (the end of the last
// label, or a one-byte label and its length byte).
std::vector<uint64_t> name_filter(const NameIndex& x) {
  std::vector<uint64_t> bits(65536 / 64, 0);
  for (uint32_t k = 0; k < x.key_count; ++k) {
    const uint8_t* key = x.key_bytes.data() + x.key_begin[k];
    const uint32_t len = x.key_begin[k + 1] - x.key_begin[k];
    if (len < 3) return {};  // the root
    const uint32_t index = uint32_t{key[len - 3]} << 8 | key[len - 2];
    bits[index / 64] |= uint64_t{1} << (index % 64);
  }
  return bits;
}

uint32_t filter_index(uint64_t x) {
  return static_cast<uint32_t>((x * kFilterMultiplier) >> kFilterShift);
}

// One address family's filter over `tables` (see NativeAddressFilter).
void family_filter(const std::vector<PrefixTable>& tables, const std::vector<uint32_t>& slots,
                   uint32_t slot_words, unsigned width, std::vector<uint64_t>& bits,
                   const uint64_t*& bits_out, uint64_t& mask_out) {
  unsigned shortest = width;
  for (const PrefixTable& t : tables) shortest = std::min<unsigned>(shortest, t.prefix_len);
  if (shortest == 0) {  // a /0 holds every address of the family
    bits_out = nullptr;
    return;
  }
  const uint64_t top = width == 32 ? 0xffffffffull : ~uint64_t{0};
  const uint64_t mask = (top << (width - shortest)) & top;
  bits.assign(65536 / 64, 0);
  for (const PrefixTable& t : tables) {
    for (uint32_t s = 0; s <= t.slot_mask; ++s) {
      const uint32_t* slot = slots.data() + (size_t{t.slot_begin} + s) * slot_words;
      if (slot[slot_words - 1] == 0) continue;  // empty
      const uint64_t x = width == 32 ? uint64_t{slot[0]} : (uint64_t{slot[0]} << 32 | slot[1]);
      const uint32_t index = filter_index(x & mask);
      bits[index / 64] |= uint64_t{1} << (index % 64);
    }
  }
  bits_out = bits.data();
  mask_out = mask;
}

void address_filter(const PrefixIndex& x, std::vector<uint64_t>& v4, std::vector<uint64_t>& v6,
                    NativeAddressFilter& out) {
  family_filter(x.v4_tables, x.v4_slots, kPrefixV4SlotWords, 32, v4, out.bits[0], out.mask[0]);
  family_filter(x.v6_tables, x.v6_slots, kPrefixV6SlotWords, 64, v6, out.bits[1], out.mask[1]);
}

uint32_t qtype_bound(const QtypeIndex& x) {
  uint32_t m = 0;
  for (size_t t = 0; t < 256; ++t) m = std::max(m, x.small_begin[t + 1] - x.small_begin[t]);
  for (size_t i = 0; i + 1 < x.large_begin.size(); ++i)
    m = std::max(m, x.large_begin[i + 1] - x.large_begin[i]);
  return m;
}

// Rules -> shapes: a key per condition tree (structure and leaf kinds), the
// leaves' parameters appended to the rule's row.
class ShapeBuilder {
 public:
  explicit ShapeBuilder(const opt::OptimizedPolicy& pol) : pol_(pol) {}

  // Returns the rule's shape id and its row (valid until the next call), or
  // UINT32_MAX with `error` set.
  uint32_t add_rule(uint32_t rule, std::string& error) {
    key_.clear();
    tree_.clear();
    error_.clear();
    row_.clear();
    walk(pol_.program.rules[rule].root);
    if (!error_.empty()) {
      error = error_;
      return UINT32_MAX;
    }
    auto [it, fresh] = ids_.try_emplace(key_, u32(shapes_.size()));
    if (fresh) {
      Shape s;
      s.nodes = std::move(tree_);
      s.row_words = u32(row_.size());
      shapes_.push_back(std::move(s));
    }
    ++shapes_[it->second].rules;
    return it->second;
  }

  std::vector<Shape> take() { return std::move(shapes_); }
  const std::vector<uint64_t>& row() const { return row_; }

 private:
  void put(uint32_t v) { key_.append(reinterpret_cast<const char*>(&v), sizeof v); }

  uint32_t walk(uint32_t node_index) {
    const ir::Program& p = pol_.program;
    const ir::Node& n = p.nodes[node_index];
    const uint32_t self = u32(tree_.size());
    tree_.emplace_back();
    tree_[self].op = n.op;
    put(static_cast<uint32_t>(n.op));
    if (n.op == ir::Node::Op::kTest) {
      const ir::Test& t = p.tests[n.test];
      const TestSource source = pol_.index.test_source[n.test];
      const ir::Compare op = has_compare(t.kind) ? t.op : ir::Compare::kEq;
      ShapeNode& leaf = tree_[self];
      leaf.kind = t.kind;
      leaf.source = source;
      leaf.compare = op;
      leaf.param = u32(row_.size());
      put(static_cast<uint32_t>(t.kind) | static_cast<uint32_t>(source) << 8 |
          static_cast<uint32_t>(op) << 16);
      row_params(n.test, t, source);
      return self;
    }
    put(u32(n.children.size()));
    for (uint32_t c : n.children) {
      const uint32_t child = walk(c);
      tree_[self].children.push_back(child);
    }
    return self;
  }

  void row_params(uint32_t test_id, const ir::Test& t, TestSource source) {
    switch (source) {
      case TestSource::kNames:
      case TestSource::kSources:
      case TestSource::kDestinations:
      case TestSource::kQtypes:
        row_.push_back(test_id);
        return;
      case TestSource::kRegexUnion:
        row_.push_back(uint64_t{union_of(test_id)} | uint64_t{test_id} << 32);
        return;
      case TestSource::kRegexLazy:
        row_.push_back(t.table);
        return;
      case TestSource::kDirect:
        break;
    }
    switch (t.kind) {
      case TestKind::kTrue:
      case TestKind::kFalse:
      case TestKind::kEdns:
      case TestKind::kEdnsDo:
        return;
      case TestKind::kLua:
        row_.push_back(t.table);  // the Lua function's index
        return;
      case TestKind::kQps: {
        const ir::Limiter& l = pol_.program.limiters[t.table];
        row_.push_back(uint64_t{t.table} | uint64_t{l.per_source ? 1u : 0u} << 32);
        row_.push_back(reinterpret_cast<uintptr_t>(&l.spec));
        return;
      }
      default:
        row_.push_back(t.value);
        return;
    }
  }

  uint32_t union_of(uint32_t test) {
    if (union_of_.empty()) {
      union_of_.assign(pol_.program.tests.size(), UINT32_MAX);
      for (uint32_t u = 0; u < pol_.index.regex_unions.size(); ++u) {
        for (uint32_t t : pol_.index.regex_unions[u].tests) union_of_[t] = u;
      }
    }
    if (union_of_[test] == UINT32_MAX) error_ = "internal error: a union regex test in no union";
    return union_of_[test];
  }

  const opt::OptimizedPolicy& pol_;
  std::vector<uint32_t> union_of_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<Shape> shapes_;
  std::string key_, error_;
  std::vector<ShapeNode> tree_;
  std::vector<uint64_t> row_;
};

}  // namespace

uint32_t leaf_param_words(TestKind kind, TestSource source) {
  if (is_fact(source)) return 1;
  switch (kind) {
    case TestKind::kTrue:
    case TestKind::kFalse:
    case TestKind::kEdns:
    case TestKind::kEdnsDo:
      return 0;
    case TestKind::kQps:
      return 2;
    default:
      return 1;
  }
}

std::unique_ptr<PolicyData> PolicyData::build(std::shared_ptr<const opt::OptimizedPolicy> policy,
                                              std::string& error) {
  std::unique_ptr<PolicyData> d(new PolicyData());
  d->policy_ = std::move(policy);
  const opt::OptimizedPolicy& pol = *d->policy_;
  const ir::Program& p = pol.program;
  const opt::DecisionIndex& ix = pol.index;
  NativeTables& t = d->tables_;

  // Rules: records of shape, verdict and row, in rule order.
  ShapeBuilder shapes(pol);
  std::vector<uint32_t> record_of(p.rules.size());
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    const uint32_t shape = shapes.add_rule(r, error);
    if (shape == UINT32_MAX) return nullptr;
    record_of[r] = u32(d->rules_.size());
    d->rules_.push_back(shape);
    d->rules_.push_back(std::bit_cast<uint64_t>(p.verdict_of(r)));
    d->rules_.insert(d->rules_.end(), shapes.row().begin(), shapes.row().end());
  }
  if (d->rules_.size() > UINT32_MAX) {
    error = "native code: the rule table is larger than 32 GB";
    return nullptr;
  }
  t.no_rule = std::bit_cast<uint64_t>(p.no_match_verdict());
  d->shapes_ = shapes.take();
  if (d->rules_.empty()) d->rules_.push_back(0);

  // Candidate lists: the anchor lists as filed, then always, then lazy; as
  // record offsets.
  for (uint32_t r : ix.anchor_rules) d->candidates_.push_back(record_of[r]);
  t.always_begin = u32(d->candidates_.size());
  for (uint32_t r : ix.always_rules) d->candidates_.push_back(record_of[r]);
  t.always_end = u32(d->candidates_.size());
  std::vector<uint32_t> lazy;
  for (uint32_t test = 0; test < ix.test_source.size(); ++test) {
    if (ix.test_source[test] != TestSource::kRegexLazy) continue;
    lazy.insert(lazy.end(), ix.anchor_rules.begin() + ix.anchor_begin[test],
                ix.anchor_rules.begin() + ix.anchor_begin[test + 1]);
  }
  std::sort(lazy.begin(), lazy.end());
  lazy.erase(std::unique(lazy.begin(), lazy.end()), lazy.end());
  t.lazy_begin = t.always_end;
  for (uint32_t r : lazy) d->candidates_.push_back(record_of[r]);
  t.lazy_end = u32(d->candidates_.size());
  if (d->candidates_.empty()) d->candidates_.push_back(0);

  // DFAs: unions with their per-state accepted test ids (ascending), and
  // one per regex table for lazy tests.
  uint32_t union_accept_bound = 0;
  for (const opt::RegexUnion& u : ix.regex_unions) {
    NativeDfa nd = native_dfa(u.dfa);
    nd.accept_base = u32(d->union_accept_begin_.size());
    uint32_t largest = 0;
    for (uint32_t s = 0; s < u.dfa.state_count; ++s) {
      d->union_accept_begin_.push_back(u32(d->union_accept_tests_.size()));
      std::vector<uint32_t> tests;
      for (uint32_t pattern : dfa_accepted(u.dfa, s)) tests.push_back(u.tests[pattern]);
      std::sort(tests.begin(), tests.end());
      tests.erase(std::unique(tests.begin(), tests.end()), tests.end());
      largest = std::max(largest, u32(tests.size()));
      d->union_accept_tests_.insert(d->union_accept_tests_.end(), tests.begin(), tests.end());
    }
    union_accept_bound += largest;
    d->unions_.push_back(nd);
  }
  d->union_accept_begin_.push_back(u32(d->union_accept_tests_.size()));
  if (d->union_accept_tests_.empty()) d->union_accept_tests_.push_back(0);
  for (const ir::Regex& re : p.regexes) d->regexes_.push_back(native_dfa(re.dfa));
  if (d->unions_.empty()) d->unions_.emplace_back();
  if (d->regexes_.empty()) d->regexes_.emplace_back();

  // Lookups.
  t.names = ix.names.key_count > 0 ? &ix.names : nullptr;
  t.sources = ix.sources.v4_tables.empty() && ix.sources.v6_tables.empty() ? nullptr : &ix.sources;
  t.destinations = ix.destinations.v4_tables.empty() && ix.destinations.v6_tables.empty()
                       ? nullptr
                       : &ix.destinations;
  t.qtypes = &ix.qtypes;
  t.qtype_small_begin = ix.qtypes.small_begin.data();
  t.qtype_ids = ix.qtypes.ids.data();
  t.unions = d->unions_.data();
  t.union_count = u32(ix.regex_unions.size());
  t.union_accept_begin = d->union_accept_begin_.data();
  t.union_accept_tests = d->union_accept_tests_.data();
  t.regexes = d->regexes_.data();
  t.anchor_begin = ix.anchor_begin.data();
  t.candidates = d->candidates_.data();
  t.rules = d->rules_.data();
  t.rule_count = u32(p.rules.size());

  // Negative filters in front of the probes.
  if (t.names) {
    d->name_filter_ = name_filter(ix.names);
    if (!d->name_filter_.empty()) t.name_filter = d->name_filter_.data();
  }
  if (t.sources)
    address_filter(ix.sources, d->address_filters_[0], d->address_filters_[1], t.source_filter);
  if (t.destinations) {
    address_filter(ix.destinations, d->address_filters_[2], d->address_filters_[3],
                   t.destination_filter);
  }

  // Scratch: bounds, so that no probe result and no merge list can overflow.
  t.name_cap = t.names ? name_bound(ix.names) : 0;
  t.source_cap = t.sources ? prefix_bound(ix.sources) : 0;
  t.destination_cap = t.destinations ? prefix_bound(ix.destinations) : 0;
  t.list_cap = 2 + t.name_cap + t.source_cap + t.destination_cap + qtype_bound(ix.qtypes) +
               union_accept_bound;
  t.source_offset = t.name_cap;
  t.destination_offset = t.source_offset + t.source_cap;
  t.union_state_offset = t.destination_offset + t.destination_cap;
  t.list_offset = t.union_state_offset + t.union_count;
  t.scratch_words = t.list_offset + 2 * t.list_cap;
  return d;
}

size_t PolicyData::data_bytes() const {
  auto bytes = [](const auto& v) { return v.size() * sizeof(v[0]); };
  size_t n = bytes(unions_) + bytes(regexes_) + bytes(union_accept_begin_) +
             bytes(union_accept_tests_) + bytes(candidates_) + bytes(rules_) + bytes(name_filter_);
  for (const auto& f : address_filters_) n += bytes(f);
  return n;
}

}  // namespace dnspc::codegen
