// Literal extraction by one bottom-up pass. For each node we know:
//   exact   - the only string it matches, when there is just one;
//   prefix  - a string all its matches start with;
//   suffix  - a string all its matches end with;
//   factor  - a string all its matches contain;
//   at_end  - all its matches end at the end of the text.
// Each rule below keeps these true (sound), not necessarily longest
// (complete): an unknown is always the empty string, which is vacuously true.
#include "dnspc/regex/literals.h"

#include <algorithm>
#include <optional>
#include <string_view>

namespace dnspc::regex {

namespace {

constexpr size_t kMaxLiteral = 255;  // no name's text is longer
constexpr size_t kMaxCommonSearch = 64;

struct Info {
  std::optional<std::string> exact;
  std::string prefix, suffix, factor;
  bool at_end = false;
};

std::string head(std::string s) {
  if (s.size() > kMaxLiteral) s.resize(kMaxLiteral);
  return s;
}

std::string tail(const std::string& s) {
  return s.size() > kMaxLiteral ? s.substr(s.size() - kMaxLiteral) : s;
}

const std::string& longest(const std::string& a, const std::string& b) {
  return b.size() > a.size() ? b : a;
}

Info from_exact(std::string s) {
  Info i;
  if (s.size() > kMaxLiteral) {
    i.prefix = head(s);
    i.suffix = tail(s);
    i.factor = i.prefix;
    return i;
  }
  i.prefix = i.suffix = i.factor = s;
  i.exact = std::move(s);
  return i;
}

Info concat(const Info& x, const Info& y) {
  Info r;
  if (x.exact && y.exact) r = from_exact(*x.exact + *y.exact);
  r.prefix = x.exact ? head(*x.exact + y.prefix) : x.prefix;
  r.suffix = y.exact ? tail(x.suffix + *y.exact) : y.suffix;
  // A match of xy is a match of x then one of y: x's suffix meets y's prefix.
  r.factor = longest(longest(x.factor, y.factor), head(x.suffix + y.prefix));
  r.factor = longest(r.factor, longest(r.prefix, r.suffix));
  // Once x's match ends at the end, y can only match the empty string there.
  r.at_end = x.at_end || y.at_end;
  return r;
}

std::string common_prefix(const std::vector<Info>& v) {
  std::string p = v[0].prefix;
  for (const Info& i : v) {
    size_t n = 0;
    while (n < p.size() && n < i.prefix.size() && p[n] == i.prefix[n]) ++n;
    p.resize(n);
  }
  return p;
}

std::string common_suffix(const std::vector<Info>& v) {
  std::string s = v[0].suffix;
  for (const Info& i : v) {
    size_t n = 0;
    while (n < s.size() && n < i.suffix.size() && s[s.size() - 1 - n] == i.suffix[i.suffix.size() - 1 - n]) ++n;
    s = s.substr(s.size() - n);
  }
  return s;
}

// The longest substring of the first branch's factor (searched within its
// first kMaxCommonSearch bytes, to stay cheap) that every branch's factor holds.
std::string common_factor(const std::vector<Info>& v) {
  std::string_view f = v[0].factor;
  f = f.substr(0, std::min(f.size(), kMaxCommonSearch));
  for (size_t len = f.size(); len > 0; --len) {
    for (size_t at = 0; at + len <= f.size(); ++at) {
      std::string_view cand = f.substr(at, len);
      if (std::all_of(v.begin(), v.end(),
                      [&](const Info& i) { return i.factor.find(cand) != std::string::npos; })) {
        return std::string(cand);
      }
    }
  }
  return {};
}

Info alternation(const std::vector<Info>& v) {
  Info r;
  const bool at_end = std::all_of(v.begin(), v.end(), [](const Info& i) { return i.at_end; });
  if (std::all_of(v.begin(), v.end(), [&](const Info& i) { return i.exact && i.exact == v[0].exact; })) {
    r = v[0];
    r.at_end = at_end;
    return r;
  }
  r.prefix = common_prefix(v);
  r.suffix = common_suffix(v);
  r.factor = longest(longest(r.prefix, r.suffix), common_factor(v));
  r.at_end = at_end;
  return r;
}

Info repeat(const Info& x, uint32_t min, uint32_t max) {
  if (max == 0) return from_exact("");
  if (min == 0) return {};  // may match the empty string anywhere
  Info r;
  if (x.exact) {
    std::string s;
    for (uint32_t i = 0; i < min && s.size() <= kMaxLiteral; ++i) s += *x.exact;
    if (min == max) {
      r = from_exact(s);
    } else {
      r.prefix = head(s);
      r.suffix = tail(s);
      r.factor = r.prefix;
    }
  } else {
    r.prefix = x.prefix;
    r.suffix = x.suffix;
    r.factor = x.factor;
    if (min >= 2) r.factor = longest(r.factor, head(x.suffix + x.prefix));
  }
  r.at_end = x.at_end;
  return r;
}

Info analyse(const RegexNode& n) {
  switch (n.kind) {
    case NodeKind::kSet: {
      const int b = n.set.single();
      return b < 0 ? Info{} : from_exact(std::string(1, static_cast<char>(b)));
    }
    case NodeKind::kTextStart: return from_exact("");
    case NodeKind::kTextEnd: {
      Info i = from_exact("");
      i.at_end = true;
      return i;
    }
    case NodeKind::kConcat: {
      Info acc = analyse(n.children[0]);
      for (size_t i = 1; i < n.children.size(); ++i) acc = concat(acc, analyse(n.children[i]));
      return acc;
    }
    case NodeKind::kAlternation: {
      std::vector<Info> branches;
      for (const RegexNode& c : n.children) branches.push_back(analyse(c));
      return alternation(branches);
    }
    case NodeKind::kRepeat: return repeat(analyse(n.children[0]), n.min, n.max);
  }
  return {};
}

}  // namespace

RegexLiterals extract_literals(const Regex& regex) {
  const Info info = analyse(regex.root);
  RegexLiterals out;
  out.required = head(info.factor);
  if (info.at_end && !info.suffix.empty() && info.suffix.back() == '.') {
    // Every matching text ends with info.suffix; what follows its first dot
    // is aligned on a label boundary that the pattern itself spells out.
    const size_t dot = info.suffix.find('.');
    if (dot + 1 < info.suffix.size()) out.dns_suffix = info.suffix.substr(dot + 1);
  }
  return out;
}

}  // namespace dnspc::regex
