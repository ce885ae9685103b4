// Hash-consing of tables and tests.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <string>
#include <tuple>

#include "dnspc/opt/passes.h"

namespace dnspc::opt {

namespace {

// A canonical byte string per table: equal strings, equal tables.
std::string canonical(const ir::NameSet& s) {
  std::vector<std::string> parts;
  for (const auto& e : s.entries) parts.push_back((e.suffix ? "s" : "e") + e.wire);
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::string out;
  for (const auto& p : parts) {
    out += static_cast<char>(p.size());
    out += p;
  }
  return out;
}

std::string canonical(const ir::PrefixSet& s) {
  std::vector<std::string> parts;
  for (const auto& p : s.prefixes) {
    std::string k(1, static_cast<char>(p.address.family));
    k += static_cast<char>(p.length);
    k.append(reinterpret_cast<const char*>(p.address.bytes), 16);
    parts.push_back(std::move(k));
  }
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

std::string canonical(const ir::QtypeSet& s) {
  return std::string(reinterpret_cast<const char*>(s.qtypes.data()), s.qtypes.size() * 2);
}

std::string canonical(const ir::Regex& r) { return r.pattern; }

// Merges equal tables of one kind; returns old index -> new index.
template <typename T>
std::vector<uint32_t> merge_tables(std::vector<T>& tables) {
  std::unordered_map<std::string, uint32_t> seen;
  seen.reserve(tables.size());
  std::vector<uint32_t> remap(tables.size());
  std::vector<T> kept;
  for (size_t i = 0; i < tables.size(); ++i) {
    auto [it, fresh] = seen.emplace(canonical(tables[i]), static_cast<uint32_t>(kept.size()));
    if (fresh) kept.push_back(std::move(tables[i]));
    remap[i] = it->second;
  }
  tables = std::move(kept);
  return remap;
}

}  // namespace

DedupeStats dedupe_tests(ir::Program& p) {
  using ir::TestKind;
  DedupeStats stats;
  stats.tests_before = p.tests.size();
  stats.tables_before = p.name_sets.size() + p.prefix_sets.size() + p.qtype_sets.size() + p.regexes.size();
  auto names = merge_tables(p.name_sets);
  auto prefixes = merge_tables(p.prefix_sets);
  auto qtypes = merge_tables(p.qtype_sets);
  auto regexes = merge_tables(p.regexes);
  for (ir::Test& t : p.tests) {
    switch (t.kind) {
      case TestKind::kName: t.table = names[t.table]; break;
      case TestKind::kSource:
      case TestKind::kDestination: t.table = prefixes[t.table]; break;
      case TestKind::kQtype: t.table = qtypes[t.table]; break;
      case TestKind::kRegex: t.table = regexes[t.table]; break;
      default: break;
    }
  }
  // Now equal tests have equal fields; source ranges differ and do not count.
  // Key: kind, operator, table and value, packed; equal keys, equal tests.
  struct KeyHash {
    size_t operator()(const std::tuple<int, int, uint32_t, uint64_t>& k) const {
      uint64_t h = (uint64_t(std::get<0>(k)) << 56) ^ (uint64_t(std::get<1>(k)) << 48) ^ std::get<2>(k);
      h = (h ^ (h >> 31)) * 0x9e3779b97f4a7c15ull ^ std::get<3>(k);
      return static_cast<size_t>(h ^ (h >> 29));
    }
  };
  std::unordered_map<std::tuple<int, int, uint32_t, uint64_t>, uint32_t, KeyHash> seen;
  seen.reserve(p.tests.size());
  std::vector<uint32_t> remap(p.tests.size());
  std::vector<ir::Test> kept;
  for (size_t i = 0; i < p.tests.size(); ++i) {
    const ir::Test& t = p.tests[i];
    if (ir::is_stateful(t.kind)) {
      remap[i] = static_cast<uint32_t>(kept.size());
      kept.push_back(t);
      continue;
    }
    auto key = std::make_tuple(static_cast<int>(t.kind), static_cast<int>(t.op), t.table, t.value);
    auto [it, fresh] = seen.emplace(key, static_cast<uint32_t>(kept.size()));
    if (fresh) kept.push_back(t);
    remap[i] = it->second;
  }
  p.tests = std::move(kept);
  for (ir::Node& n : p.nodes) {
    if (n.op == ir::Node::Op::kTest) n.test = remap[n.test];
  }
  stats.tests_after = p.tests.size();
  stats.tables_after = p.name_sets.size() + p.prefix_sets.size() + p.qtype_sets.size() + p.regexes.size();
  return stats;
}

}  // namespace dnspc::opt
