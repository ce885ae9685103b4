// Rules that can never match: shadowed by earlier rules, or after a catch-all.
//
// Decided on disjunctive normal form: rule R can never decide when each of
// its conjunctions is implied by a conjunction of some earlier rule E (E
// would have decided first). Implication between single tests is syntactic
// and conservative (suffix under suffix, prefix inside prefix, interval
// inside interval, ...), so a warning is only given when it is certain.
//
// Comparing every rule with every earlier one is quadratic (10^10 steps at
// 100k rules), so earlier conjunctions are indexed under a key taken from
// their most selective test, and a rule probes only the keys its own tests
// could imply (each label suffix of its name, each shorter prefix of its
// netmask, its query type, ...).
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "shadowing.h"

namespace dnspc::sema {

namespace {

using K = Cond::Kind;

struct Literal {
  const Cond* atom;
  bool negated;
};
using Conjunction = std::vector<Literal>;
using Dnf = std::vector<Conjunction>;

constexpr size_t kMaxDnfTerms = 256;

// DNF of `c` (negated when `neg`); nullopt when it grows past the bound.
std::optional<Dnf> to_dnf(const Cond& c, bool neg) {
  if (c.kind == K::kNot) return to_dnf(c.children[0], !neg);
  bool is_and = (c.kind == K::kAnd) != neg;
  if (c.kind == K::kAnd || c.kind == K::kOr) {
    if (!is_and) {
      Dnf out;
      for (const Cond& child : c.children) {
        auto d = to_dnf(child, neg);
        if (!d) return std::nullopt;
        out.insert(out.end(), d->begin(), d->end());
        if (out.size() > kMaxDnfTerms) return std::nullopt;
      }
      return out;
    }
    Dnf out{Conjunction{}};
    for (const Cond& child : c.children) {
      auto d = to_dnf(child, neg);
      if (!d) return std::nullopt;
      if (d->size() == 1) {
        // One term (a plain test, the usual case): extend each term where
        // it is. Copying them for every child made a flat chain of n tests
        // cost n^2 (100,000 `and`s: seconds).
        for (Conjunction& a : out) a.insert(a.end(), d->front().begin(), d->front().end());
        continue;
      }
      Dnf next;
      for (const Conjunction& a : out) {
        for (const Conjunction& b : *d) {
          Conjunction both = a;
          both.insert(both.end(), b.begin(), b.end());
          next.push_back(std::move(both));
          if (next.size() > kMaxDnfTerms) return std::nullopt;
        }
      }
      out = std::move(next);
    }
    return out;
  }
  if ((c.kind == K::kTrue && !neg) || (c.kind == K::kFalse && neg)) return Dnf{Conjunction{}};
  if (c.kind == K::kTrue || c.kind == K::kFalse) return Dnf{};
  return Dnf{Conjunction{Literal{&c, neg}}};
}

bool stateful(const Cond& c) {
  return c.kind == K::kQps || c.kind == K::kProbability || c.kind == K::kLua || c.kind == K::kTagged;
}

bool same_atom(const Cond& a, const Cond& b) {
  return a.kind == b.kind && a.compare == b.compare && a.number == b.number && a.real == b.real &&
         a.names == b.names && a.qtypes == b.qtypes && a.set == b.set && a.pattern == b.pattern &&
         a.function == b.function && a.prefixes.size() == b.prefixes.size() &&
         std::equal(a.prefixes.begin(), a.prefixes.end(), b.prefixes.begin(),
                    [](const Prefix& x, const Prefix& y) {
                      return x.length == y.length && x.address == y.address;
                    });
}

// `name` equals `suffix` or lies under it (both lower case, trailing dot).
bool under(const std::string& name, const std::string& suffix) {
  if (suffix == ".") return true;
  if (name.size() < suffix.size()) return false;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  return name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '.';
}

bool prefix_within(const Prefix& inner, const Prefix& outer) {
  if (inner.address.family != outer.address.family || inner.length < outer.length) return false;
  for (unsigned bit = 0; bit < outer.length; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((inner.address.bytes[bit / 8] & mask) != (outer.address.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

struct Interval {
  uint64_t lo, hi;
};

std::optional<Interval> interval(const Cond& c) {
  uint64_t n = c.number;
  switch (c.compare) {
    case Compare::kEq: return Interval{n, n};
    case Compare::kLt: return n == 0 ? std::nullopt : std::optional<Interval>({0, n - 1});
    case Compare::kLe: return Interval{0, n};
    case Compare::kGt: return Interval{n + 1, UINT64_MAX};
    case Compare::kGe: return Interval{n, UINT64_MAX};
    case Compare::kNe: return std::nullopt;
  }
  return std::nullopt;
}

class Implication {
 public:
  explicit Implication(const Model& m) : model_(m) {}

  // Every query that satisfies `a` satisfies `b`.
  bool implies(const Literal& a, const Literal& b) const {
    if (a.negated != b.negated) return false;
    if (same_atom(*a.atom, *b.atom)) return true;
    if (a.negated) return false;
    return atom_implies(*a.atom, *b.atom);
  }

 private:
  const std::vector<std::string>& names_of(const Cond& c) const {
    return c.set >= 0 ? model_.sets[c.set].names : c.names;
  }
  const std::vector<Prefix>& prefixes_of(const Cond& c) const {
    return c.set >= 0 ? model_.sets[c.set].prefixes : c.prefixes;
  }
  const std::vector<uint16_t>& qtypes_of(const Cond& c) const {
    return c.set >= 0 ? model_.sets[c.set].qtypes : c.qtypes;
  }

  // Every name `a` admits lies under some suffix `b` admits, or equals a name it admits.
  bool atom_implies(const Cond& a, const Cond& b) const {
    auto exact_names = [&](const Cond& c) -> std::optional<std::vector<std::string>> {
      if (c.kind == K::kQnameEquals || c.kind == K::kQnameInNames) return names_of(c);
      return std::nullopt;
    };
    auto suffixes = [&](const Cond& c) -> std::optional<std::vector<std::string>> {
      if (c.kind == K::kQnameSuffix || c.kind == K::kQnameInSuffixes) return names_of(c);
      return std::nullopt;
    };
    if (auto bs = suffixes(b)) {
      std::optional<std::vector<std::string>> as = exact_names(a);
      if (!as) as = suffixes(a);
      if (!as || as->empty()) return false;
      for (const std::string& n : *as) {
        if (std::none_of(bs->begin(), bs->end(), [&](const std::string& s) { return under(n, s); })) return false;
      }
      return true;
    }
    if (auto bn = exact_names(b)) {
      auto an = exact_names(a);
      if (!an || an->empty()) return false;
      return std::all_of(an->begin(), an->end(), [&](const std::string& n) {
        return std::find(bn->begin(), bn->end(), n) != bn->end();
      });
    }
    if ((a.kind == K::kSourceIn && b.kind == K::kSourceIn) ||
        (a.kind == K::kDestinationIn && b.kind == K::kDestinationIn)) {
      const auto& ap = prefixes_of(a);
      const auto& bp = prefixes_of(b);
      if (ap.empty()) return false;
      return std::all_of(ap.begin(), ap.end(), [&](const Prefix& p) {
        return std::any_of(bp.begin(), bp.end(), [&](const Prefix& q) { return prefix_within(p, q); });
      });
    }
    auto qtypes = [&](const Cond& c) -> std::optional<std::vector<uint16_t>> {
      if (c.kind == K::kQtype) return std::vector<uint16_t>{static_cast<uint16_t>(c.number)};
      if (c.kind == K::kQtypeIn) return qtypes_of(c);
      return std::nullopt;
    };
    if (auto aq = qtypes(a), bq = qtypes(b); aq && bq && !aq->empty()) {
      return std::all_of(aq->begin(), aq->end(), [&](uint16_t t) {
        return std::find(bq->begin(), bq->end(), t) != bq->end();
      });
    }
    bool numeric = a.kind == K::kLabelCount || a.kind == K::kNameLength || a.kind == K::kEdnsVersion ||
                   a.kind == K::kEdnsPayload || a.kind == K::kPacketSize;
    if (numeric && a.kind == b.kind) {
      auto ia = interval(a), ib = interval(b);
      return ia && ib && ia->lo >= ib->lo && ia->hi <= ib->hi;
    }
    return false;
  }

  const Model& model_;
};

// Conjunction `r` implies conjunction `e` when each test of `e` is implied by
// some test of `r`.
bool conj_implies(const Implication& imp, const Conjunction& r, const Conjunction& e) {
  return std::all_of(e.begin(), e.end(), [&](const Literal& el) {
    return std::any_of(r.begin(), r.end(), [&](const Literal& rl) { return imp.implies(rl, el); });
  });
}


// ------------------------------------------------------------------ the index

// Keys are short binary strings: a tag byte, then the value.
std::string prefix_key(char tag, NetAddress a, unsigned length) {
  unsigned max = a.is_v6() ? 128 : 32;
  for (unsigned bit = length; bit < max; ++bit) {
    a.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  std::string key(1, tag);
  key += static_cast<char>(a.is_v6() ? 6 : 4);
  key += static_cast<char>(length);
  key.append(reinterpret_cast<const char*>(a.bytes), (length + 7) / 8);
  return key;
}

std::string generic_key(const Literal& l) {
  return fmt::format("gen:{}:{}", static_cast<int>(l.atom->kind), l.negated ? 1 : 0);
}

// Where an earlier rule's conjunction is filed: the keys of its most
// selective test (several keys when that test lists several values).
std::vector<std::string> anchor_keys(const Model& m, const Conjunction& c) {
  int best_rank = 99;
  std::vector<std::string> best;
  for (const Literal& l : c) {
    const Cond& a = *l.atom;
    int rank = 9;
    std::vector<std::string> keys;
    if (!l.negated) {
      switch (a.kind) {
        case K::kQnameEquals:
        case K::kQnameInNames:
          rank = 0;
          if (a.set >= 0) {
            rank = 2;
            keys.push_back(fmt::format("nameset:{}", a.set));
          } else {
            for (const auto& n : a.names) keys.push_back("name:" + n);
          }
          break;
        case K::kQnameSuffix:
        case K::kQnameInSuffixes:
          rank = 0;
          if (a.set >= 0) {
            rank = 2;
            keys.push_back(fmt::format("sufset:{}", a.set));
          } else {
            for (const auto& n : a.names) keys.push_back("suffix:" + n);
          }
          break;
        case K::kQnameRegex:
          rank = 0;
          keys.push_back("regex:" + a.pattern);
          break;
        case K::kSourceIn:
        case K::kDestinationIn: {
          const char* tag = a.kind == K::kSourceIn ? "src" : "dst";
          rank = 1;
          if (a.set >= 0) {
            rank = 2;
            keys.push_back(fmt::format("{}set:{}", tag, a.set));
          } else {
            for (const Prefix& p : a.prefixes) keys.push_back(prefix_key(*tag, p.address, p.length));
          }
          break;
        }
        case K::kQtype:
          rank = 3;
          keys.push_back(fmt::format("qtype:{}", a.number));
          break;
        case K::kQtypeIn:
          rank = 3;
          for (uint16_t t : a.set >= 0 ? m.sets[a.set].qtypes : a.qtypes) keys.push_back(fmt::format("qtype:{}", t));
          break;
        default:
          break;
      }
    }
    if (keys.empty()) keys.push_back(generic_key(l));
    if (rank < best_rank) {
      best_rank = rank;
      best = std::move(keys);
    }
  }
  return best;
}

// Prefix lengths filed so far: [source?][IPv6?][length].
using FiledLengths = std::array<std::array<std::bitset<129>, 2>, 2>;

// Every key under which an earlier conjunction implied by `l` may be filed.
void probe_keys(const Model& m, const Literal& l, const FiledLengths& filed_lengths,
                std::vector<std::string>& out) {
  out.push_back(generic_key(l));
  const Cond& a = *l.atom;
  if (l.negated) return;
  auto each_set = [&](SetKind kind, const char* tag) {
    for (size_t i = 0; i < m.sets.size(); ++i) {
      if (m.sets[i].kind == kind) out.push_back(fmt::format("{}:{}", tag, i));
    }
  };
  auto label_suffixes = [&](const std::string& name) {
    out.push_back("suffix:.");
    for (size_t pos = 0; pos < name.size(); pos = name.find('.', pos) + 1) {
      out.push_back("suffix:" + name.substr(pos));
      if (name.find('.', pos) == std::string::npos || name.find('.', pos) + 1 >= name.size()) break;
    }
  };
  switch (a.kind) {
    case K::kQnameEquals:
    case K::kQnameInNames:
    case K::kQnameSuffix:
    case K::kQnameInSuffixes: {
      const auto& names = a.set >= 0 ? m.sets[a.set].names : a.names;
      bool exact = a.kind == K::kQnameEquals || a.kind == K::kQnameInNames;
      // Every value must be covered, so probing with the first one suffices.
      if (!names.empty()) {
        if (exact) out.push_back("name:" + names[0]);
        label_suffixes(names[0]);
      }
      if (a.set >= 0) out.push_back(fmt::format("{}:{}", exact ? "nameset" : "sufset", a.set));
      if (exact) each_set(SetKind::kNames, "nameset");
      each_set(SetKind::kSuffixes, "sufset");
      break;
    }
    case K::kQnameRegex:
      out.push_back("regex:" + a.pattern);
      break;
    case K::kSourceIn:
    case K::kDestinationIn: {
      const char* tag = a.kind == K::kSourceIn ? "src" : "dst";
      const auto& prefixes = a.set >= 0 ? m.sets[a.set].prefixes : a.prefixes;
      if (!prefixes.empty()) {
        // Only the prefix lengths some earlier rule uses can hold a cover.
        const auto& lengths = filed_lengths[a.kind == K::kSourceIn][prefixes[0].address.is_v6()];
        for (unsigned len = 0; len <= prefixes[0].length; ++len) {
          if (lengths[len]) out.push_back(prefix_key(*tag, prefixes[0].address, len));
        }
      }
      for (size_t i = 0; i < m.sets.size(); ++i) {
        if (m.sets[i].kind == SetKind::kNetmasks) out.push_back(fmt::format("{}set:{}", tag, i));
      }
      break;
    }
    case K::kQtype:
      out.push_back(fmt::format("qtype:{}", a.number));
      break;
    case K::kQtypeIn: {
      const auto& types = a.set >= 0 ? m.sets[a.set].qtypes : a.qtypes;
      if (!types.empty()) out.push_back(fmt::format("qtype:{}", types[0]));
      break;
    }
    default:
      break;
  }
}

struct Filed {
  uint32_t rule;
  uint32_t conjunction;
};

}  // namespace

void check_shadowed_rules(const Model& m, diag::Diagnostics& diags) {
  Implication imp(m);
  Cond udp;
  udp.kind = K::kTransport;
  udp.number = 0;
  std::vector<std::optional<Dnf>> dnfs(m.rules.size());
  std::unordered_map<std::string, std::vector<Filed>> index;
  std::optional<size_t> catch_all;
  std::vector<std::string> keys;
  FiledLengths filed_lengths{};

  for (size_t r = 0; r < m.rules.size(); ++r) {
    const Rule& rule = m.rules[r];
    std::optional<Dnf> mine = to_dnf(rule.condition, false);

    // Is every conjunction of this rule implied by an earlier one?
    if (r > 0 && mine && !mine->empty()) {
      std::set<size_t> by;
      bool all_covered = true;
      for (const Conjunction& rc : *mine) {
        std::optional<size_t> cover;
        if (catch_all) cover = *catch_all;
        keys.clear();
        for (const Literal& l : rc) probe_keys(m, l, filed_lengths, keys);
        for (size_t k = 0; k < keys.size() && !cover; ++k) {
          auto it = index.find(keys[k]);
          if (it == index.end()) continue;
          for (const Filed& f : it->second) {
            if (conj_implies(imp, rc, (*dnfs[f.rule])[f.conjunction])) {
              cover = f.rule;
              break;
            }
          }
        }
        if (!cover) {
          all_covered = false;
          break;
        }
        by.insert(*cover);
      }
      if (all_covered) {
        size_t first = *by.begin();
        if (catch_all && by.size() == 1 && first == *catch_all) {
          auto& d = diags.warning("unreachable-rule", rule.name_range,
                                  fmt::format("rule '{}' is unreachable: rule '{}' before it matches "
                                              "every query",
                                              rule.name, m.rules[first].name));
          d.notes.push_back({m.rules[first].name_range, "the catch-all rule"});
        } else {
          std::string names;
          for (size_t e : by) names += (names.empty() ? "'" : ", '") + m.rules[e].name + "'";
          auto& d = diags.warning("shadowed-rule", rule.name_range,
                                  fmt::format("rule '{}' can never match: earlier rule{} {} match{} "
                                              "every query it matches",
                                              rule.name, by.size() > 1 ? "s" : "", names,
                                              by.size() > 1 ? "" : "es"));
          for (size_t e : by) d.notes.push_back({m.rules[e].name_range, "shadowed by this rule"});
        }
      }
    }

    // File this rule for the rules after it.
    if (!mine) continue;
    Dnf filed = *mine;
    // A truncating rule decides only over UDP: its tests gain "udp".
    if (rule.action.terminal == Terminal::kTruncate) {
      for (Conjunction& c : filed) c.push_back(Literal{&udp, false});
    }
    // Conjunctions with stateful tests may not fire, so they shadow nothing.
    std::erase_if(filed, [](const Conjunction& c) {
      return std::any_of(c.begin(), c.end(), [](const Literal& l) { return stateful(*l.atom); });
    });
    dnfs[r] = std::move(filed);
    for (uint32_t c = 0; c < dnfs[r]->size(); ++c) {
      const Conjunction& conj = (*dnfs[r])[c];
      if (conj.empty()) {
        if (!catch_all) catch_all = r;
        continue;
      }
      for (const std::string& key : anchor_keys(m, conj)) {
        index[key].push_back({static_cast<uint32_t>(r), c});
      }
      for (const Literal& l : conj) {
        const Cond& a = *l.atom;
        if (l.negated || (a.kind != K::kSourceIn && a.kind != K::kDestinationIn)) continue;
        for (const Prefix& p : a.set >= 0 ? m.sets[a.set].prefixes : a.prefixes) {
          filed_lengths[a.kind == K::kSourceIn][p.address.is_v6()][p.length] = true;
        }
      }
    }
  }
}

}  // namespace dnspc::sema
