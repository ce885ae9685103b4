// The kernel maps' contents for a prefix: names and addresses keyed for the
// merged lookups (folded rules give the first rule a key alone decides,
// general tests their bit), actions per rule, regex DFAs, rate bounds.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "dnspc/bpf/kernel_code.h"
#include "dnspc/wire.h"

namespace dnspc::bpf {

namespace {

using kernel::dnspc_k_lookup;
using kernel::KernelPrefix;
using kernel::KernelTables;
using kernel::RuleFold;

void merge(dnspc_k_lookup& into, uint32_t rule, uint64_t bits) {
  into.min_rule = std::min(into.min_rule, rule);
  into.bits |= bits;
}

dnspc_k_lookup empty_lookup() {
  dnspc_k_lookup l{};
  l.min_rule = kernel::DNSPC_K_NO_RULE;
  return l;
}

struct NameKeyLess {
  bool operator()(const kernel::dnspc_k_name_key& a, const kernel::dnspc_k_name_key& b) const {
    return std::tie(a.hash, a.kind, a.qtype) < std::tie(b.hash, b.kind, b.qtype);
  }
};

class NameKeys {
 public:
  explicit NameKeys(uint64_t seed) : seed_(seed) {}
  void add(const ir::NameSet& set, uint32_t qtype_plus_one, uint32_t rule, uint64_t bits) {
    for (const ir::NameEntry& e : set.entries) {
      kernel::dnspc_k_name_key key{};
      key.hash = kernel::name_hash(seed_, reinterpret_cast<const uint8_t*>(e.wire.data()), e.wire.size());
      key.kind = e.suffix ? kernel::DNSPC_K_NAME_SUFFIX : kernel::DNSPC_K_NAME_EXACT;
      key.qtype = qtype_plus_one;
      auto [it, fresh] = keys_.try_emplace(key, empty_lookup());
      merge(it->second, rule, bits);
    }
  }
  // A folded regex rule, chained under its DNS suffix's name key (rules
  // arrive in order, so each chain is in rule order).
  void add_regex_rule(const std::string& wire, uint32_t rule, uint32_t regex, KernelTables& t) {
    kernel::dnspc_k_name_key key{};
    key.hash = kernel::name_hash(seed_, reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
    key.kind = kernel::DNSPC_K_NAME_SUFFIX;
    auto [it, fresh] = keys_.try_emplace(key, empty_lookup());
    t.regex_rules.push_back({rule, regex, 0, 0});
    const auto index = static_cast<uint32_t>(t.regex_rules.size());  // 1 + its position
    auto [tail, first] = chain_tails_.try_emplace(key, index);
    if (first) {
      it->second.regex_chain = index;
    } else {
      t.regex_rules[tail->second - 1].next = index;
      tail->second = index;
    }
  }
  void move_into(KernelTables& t) {
    t.names.reserve(keys_.size());
    for (auto& [k, v] : keys_) t.names.emplace_back(k, v);
  }

 private:
  uint64_t seed_;
  std::map<kernel::dnspc_k_name_key, dnspc_k_lookup, NameKeyLess> keys_;
  std::map<kernel::dnspc_k_name_key, uint32_t, NameKeyLess> chain_tails_;
};

// One address family's prefixes. The kernel's LPM lookup returns only the
// longest prefix that holds, so each entry also carries what every shorter
// entry containing it says.
template <size_t Bytes>
class PrefixKeys {
 public:
  using Key = std::pair<uint8_t, std::array<uint8_t, Bytes>>;  // length, masked address

  void add(const ir::Prefix& p, uint32_t rule, uint64_t bits) {
    Key key{p.length, {}};
    std::memcpy(key.second.data(), p.address.bytes, Bytes);
    mask(key.second, p.length);
    auto [it, fresh] = entries_.try_emplace(key, empty_lookup());
    merge(it->second, rule, bits);
  }

  template <typename Lpm>
  void move_into(std::vector<std::pair<Lpm, dnspc_k_lookup>>& out) {
    std::set<uint8_t> lengths;
    for (auto& [k, v] : entries_) lengths.insert(k.first);
    out.reserve(entries_.size());
    for (auto& [k, v] : entries_) {
      dnspc_k_lookup total = v;
      for (uint8_t shorter : lengths) {
        if (shorter >= k.first) break;
        Key up{shorter, k.second};
        mask(up.second, shorter);
        if (auto it = entries_.find(up); it != entries_.end()) merge(total, it->second.min_rule, it->second.bits);
      }
      Lpm lpm{};
      lpm.prefixlen = k.first;
      std::memcpy(lpm.addr, k.second.data(), Bytes);
      out.emplace_back(lpm, total);
    }
  }

 private:
  static void mask(std::array<uint8_t, Bytes>& a, unsigned length) {
    for (unsigned i = 0; i < Bytes; ++i) {
      unsigned have = i * 8;
      uint8_t m = length >= have + 8 ? 0xff : length > have ? static_cast<uint8_t>(0xff << (8 - (length - have))) : 0;
      a[i] &= m;
    }
  }
  std::map<Key, dnspc_k_lookup> entries_;
};

struct AddressKeys {
  PrefixKeys<4> v4;
  PrefixKeys<16> v6;
  void add(const ir::PrefixSet& set, uint32_t rule, uint64_t bits) {
    for (const ir::Prefix& p : set.prefixes) {
      if (p.address.family == AddressFamily::kIPv4) v4.add(p, rule, bits);
      if (p.address.family == AddressFamily::kIPv6) v6.add(p, rule, bits);
    }
  }
};

kernel::dnspc_k_action action_of(const ir::RuleAction& a) {
  kernel::dnspc_k_action k{};
  switch (a.terminal) {
    case ActionKind::kRefuse: k.kind = kernel::DNSPC_K_REFUSE; break;
    case ActionKind::kRcode:
      k.kind = kernel::DNSPC_K_RCODE;
      k.rcode = static_cast<uint8_t>(a.argument & 0xf);
      break;
    case ActionKind::kTruncate: k.kind = kernel::DNSPC_K_TRUNCATE; break;
    default: k.kind = kernel::DNSPC_K_DROP; break;  // the prefix holds no other action
  }
  return k;
}

// The tests reachable from a node.
void collect_tests(const ir::Program& p, uint32_t node, std::vector<uint32_t>& out) {
  const ir::Node& n = p.nodes[node];
  if (n.op == ir::Node::Op::kTest) {
    out.push_back(n.test);
    return;
  }
  for (uint32_t c : n.children) collect_tests(p, c, out);
}

void add_regex(const ir::Regex& r, KernelTables& t) {
  const DfaTable& d = r.dfa;
  kernel::dnspc_k_regex k{};
  k.base = static_cast<uint32_t>(t.dfa.size());
  k.class_count = d.class_count;
  k.start = d.start;
  k.start_accepts = d.accepting[d.start];
  k.sink_count = d.sink_count;
  std::memcpy(k.classes, d.byte_class.data(), 256);
  for (uint16_t next : d.next) t.dfa.push_back(next | (uint32_t{d.accepting[next] != 0} << 16));
  t.regexes.push_back(k);
}

}  // namespace

KernelTables build_tables(const ir::Program& program, const KernelPrefix& prefix, uint64_t seed) {
  KernelTables t;
  t.config.hash_seed = seed;
  t.config.prefix_rules = prefix.rules;
  t.regex_of_test.assign(program.tests.size(), -1);
  NameKeys names(seed);
  AddressKeys sources, destinations;

  auto bit = [&](uint32_t test) -> uint64_t {
    int b = test < prefix.test_bit.size() ? prefix.test_bit[test] : -1;
    return b < 0 ? 0 : uint64_t{1} << b;
  };
  for (uint32_t r = 0; r < prefix.rules; ++r) {
    t.actions.push_back(action_of(program.rules[r].action));
    const RuleFold fold = prefix.folds[r];
    const ir::Test* test = fold == RuleFold::kGeneral ? nullptr : &program.tests[prefix.fold_tests[r]];
    switch (fold) {
      case RuleFold::kName: names.add(program.name_sets[test->table], 0, r, 0); break;
      case RuleFold::kSource: sources.add(program.prefix_sets[test->table], r, 0); break;
      case RuleFold::kDestination: destinations.add(program.prefix_sets[test->table], r, 0); break;
      case RuleFold::kRegex: {
        uint8_t wire[256];
        const std::string& suffix = program.regexes[test->table].dns_suffix;
        size_t n = encode_name(suffix, wire, sizeof wire);
        for (size_t i = 0; i < n; ++i) wire[i] = static_cast<uint8_t>(std::tolower(wire[i]));
        const auto regex = static_cast<uint32_t>(t.regexes.size());
        add_regex(program.regexes[test->table], t);
        names.add_regex_rule(std::string(reinterpret_cast<const char*>(wire), n), r, regex, t);
        break;
      }
      case RuleFold::kQtypeName: {
        const ir::Test& qt = program.tests[prefix.fold_qtype_tests[r]];
        for (uint16_t q : program.qtype_sets[qt.table].qtypes) {
          names.add(program.name_sets[test->table], uint32_t{q} + 1, r, 0);
        }
        break;
      }
      case RuleFold::kGeneral: {
        std::vector<uint32_t> tests;
        collect_tests(program, program.rules[r].root, tests);
        for (uint32_t id : tests) {
          const ir::Test& g = program.tests[id];
          switch (g.kind) {
            case ir::TestKind::kName: names.add(program.name_sets[g.table], 0, kernel::DNSPC_K_NO_RULE, bit(id)); break;
            case ir::TestKind::kSource:
              sources.add(program.prefix_sets[g.table], kernel::DNSPC_K_NO_RULE, bit(id));
              break;
            case ir::TestKind::kDestination:
              destinations.add(program.prefix_sets[g.table], kernel::DNSPC_K_NO_RULE, bit(id));
              break;
            case ir::TestKind::kRegex:
              if (t.regex_of_test[id] < 0) {
                t.regex_of_test[id] = static_cast<int32_t>(t.regexes.size());
                add_regex(program.regexes[g.table], t);
              }
              break;
            default: break;
          }
        }
        break;
      }
    }
  }
  names.move_into(t);
  sources.v4.move_into(t.source4);
  sources.v6.move_into(t.source6);
  destinations.v4.move_into(t.destination4);
  destinations.v6.move_into(t.destination6);
  for (const ir::Limiter& l : program.limiters) {
    kernel::KernelLimiter k;
    k.interval_ns = l.spec.interval_ns;
    k.tolerance_ns = l.spec.tolerance_ns;
    k.per_source = l.per_source;
    k.v4_prefix = l.v4_prefix;
    k.v6_prefix = l.v6_prefix;
    if (l.per_source) t.source_rate_entries += std::max<uint32_t>(l.table_size, 1024);
    t.limiters.push_back(k);
  }
  return t;
}

}  // namespace dnspc::bpf
