#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/flat_hash.h"
#include "dnspc/name_index.h"
#include "dnspc/probes.h"
#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;
using namespace std::string_view_literals;

namespace {

// "www.example.com" (or "www.example.com.") -> "\3www\7example\3com\0"; "" and "." -> "\0".
std::string wire(std::string_view dotted) {
  std::string out;
  while (!dotted.empty()) {
    const size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    if (!label.empty()) {
      out.push_back(static_cast<char>(label.size()));
      out.append(label);
    }
    if (dot == std::string_view::npos) break;
    dotted = dotted.substr(dot + 1);
  }
  out.push_back('\0');
  return out;
}

// A parsed query for `dotted`; the view points into `packet`.
struct Query {
  std::vector<uint8_t> packet;
  QueryView view;
  explicit Query(std::string_view dotted) : packet(dnspc::testing::simple_query(dotted, qtype::kA)) {
    const ParseError err = parse_query(packet.data(), packet.size(), Transport::kUdp, view);
    REQUIRE(err == ParseError::kOk);
  }
};

std::vector<uint32_t> probe(const NameIndex& x, std::string_view dotted) {
  Query q(dotted);
  std::vector<uint32_t> out(4);
  uint32_t n = name_probe(x, q.view, out.data(), static_cast<uint32_t>(out.size()));
  if (n > out.size()) {
    out.resize(n);
    REQUIRE(name_probe(x, q.view, out.data(), n) == n);
  }
  out.resize(n);
  return out;
}

using Ids = std::vector<uint32_t>;

void add(NameIndexBuilder& b, std::string_view dotted, NameMode mode, uint32_t id) {
  REQUIRE(b.add(wire(dotted), mode, id) == nullptr);
}

}  // namespace

TEST_CASE("name index: exact keys match only the whole name, suffix keys the apex and below",
          "[stdlib][name]") {
  NameIndexBuilder b;
  add(b, "example.com", NameMode::kExact, 1);
  add(b, "example.com", NameMode::kSuffix, 2);
  add(b, "www.example.com", NameMode::kExact, 3);
  add(b, "com", NameMode::kSuffix, 4);
  add(b, "org", NameMode::kExact, 5);
  const NameIndex x = b.build();
  REQUIRE(name_index_check(x) == nullptr);
  CHECK(x.key_count == 4);

  CHECK(probe(x, "example.com") == Ids{1, 2, 4});
  CHECK(probe(x, "www.example.com") == Ids{2, 3, 4});
  CHECK(probe(x, "a.www.example.com") == Ids{2, 4});
  CHECK(probe(x, "com") == Ids{4});
  CHECK(probe(x, "other.com") == Ids{4});
  CHECK(probe(x, "org") == Ids{5});
  CHECK(probe(x, "www.org").empty());
  CHECK(probe(x, "net").empty());
  CHECK(probe(x, ".").empty());
}

TEST_CASE("name index: suffixes are label-aligned", "[stdlib][name]") {
  NameIndexBuilder b;
  add(b, "example.com", NameMode::kSuffix, 1);
  add(b, "ample.com", NameMode::kSuffix, 2);
  add(b, "com", NameMode::kExact, 3);
  const NameIndex x = b.build();
  CHECK(probe(x, "badexample.com").empty());
  CHECK(probe(x, "www.badexample.com").empty());
  CHECK(probe(x, "example.com") == Ids{1});
  CHECK(probe(x, "ex.ample.com") == Ids{2});
  CHECK(probe(x, "example.com.evil").empty());
  CHECK(probe(x, "example.co").empty());
  // "com" as EXACT matches only "com" itself.
  CHECK(probe(x, "com") == Ids{3});
  CHECK(probe(x, "x.com").empty());
}

TEST_CASE("name index: the root key", "[stdlib][name]") {
  NameIndexBuilder b;
  REQUIRE(b.add("\x00"sv, NameMode::kSuffix, 7) == nullptr);
  REQUIRE(b.add("\x00"sv, NameMode::kExact, 8) == nullptr);
  add(b, "example.com", NameMode::kSuffix, 1);
  const NameIndex x = b.build();
  REQUIRE(name_index_check(x) == nullptr);
  CHECK(probe(x, ".") == Ids{7, 8});
  CHECK(probe(x, "com") == Ids{7});
  CHECK(probe(x, "www.example.com") == Ids{1, 7});
  // 127 labels, the longest name there is.
  std::string deep;
  for (int i = 0; i < 126; ++i) deep += "a.";
  deep += "b";
  CHECK(probe(x, deep) == Ids{7});
}

TEST_CASE("name index: case is folded by the view and by the builder", "[stdlib][name]") {
  NameIndexBuilder b;
  REQUIRE(b.add("\x07" "ExAmple\x03" "COM\x00"sv, NameMode::kSuffix, 1) == nullptr);
  add(b, "www.example.com", NameMode::kExact, 2);
  const NameIndex x = b.build();
  CHECK(x.key_count == 2);
  CHECK(probe(x, "WWW.EXAMPLE.COM") == Ids{1, 2});
  CHECK(probe(x, "Mail.Example.Com") == Ids{1});
}

TEST_CASE("name index: ids are deduplicated and ascending across keys", "[stdlib][name]") {
  NameIndexBuilder b;
  add(b, "com", NameMode::kSuffix, 9);
  add(b, "example.com", NameMode::kSuffix, 9);
  add(b, "example.com", NameMode::kExact, 9);  // implied by the suffix entry
  add(b, "example.com", NameMode::kSuffix, 3);
  add(b, "example.com", NameMode::kSuffix, 3);
  add(b, "www.example.com", NameMode::kExact, 1);
  add(b, "www.example.com", NameMode::kExact, 100);
  add(b, "com", NameMode::kSuffix, 50);
  const NameIndex x = b.build();
  REQUIRE(name_index_check(x) == nullptr);
  const uint32_t key = name_find(x, reinterpret_cast<const uint8_t*>(wire("example.com").data()),
                                 wire("example.com").size());
  REQUIRE(key != kNoNameKey);
  CHECK(name_exact_ids(x, key).empty());
  CHECK(Ids(name_suffix_ids(x, key).begin(), name_suffix_ids(x, key).end()) == Ids{3, 9});
  CHECK(probe(x, "www.example.com") == Ids{1, 3, 9, 50, 100});
  CHECK(probe(x, "example.com") == Ids{3, 9, 50});
}

TEST_CASE("name index: a small output buffer gets the smallest ids and the true count",
          "[stdlib][name]") {
  NameIndexBuilder b;
  for (uint32_t id = 0; id < 40; ++id) {
    add(b, id % 2 ? "example.com" : "com", NameMode::kSuffix, 1000 - id);
  }
  const NameIndex x = b.build();
  Query q("www.example.com");
  uint32_t out[8] = {};
  CHECK(name_probe(x, q.view, out, 8) == 40);
  for (uint32_t i = 0; i < 8; ++i) CHECK(out[i] == 961 + i);
  CHECK(name_probe(x, q.view, nullptr, 0) == 40);
  CHECK(dnspc_name_probe(&x, &q.view, out, 3) == 40);
  CHECK(out[0] == 961);
  CHECK(out[2] == 963);
}

TEST_CASE("name index: malformed names are refused", "[stdlib][name]") {
  NameIndexBuilder b;
  CHECK(b.add(""sv, NameMode::kSuffix, 1) != nullptr);
  CHECK(b.add("\x03" "com"sv, NameMode::kSuffix, 1) != nullptr);          // no root byte
  CHECK(b.add("\x03" "com\x00\x00"sv, NameMode::kSuffix, 1) != nullptr);  // bytes after it
  CHECK(b.add("\x05" "com\x00"sv, NameMode::kSuffix, 1) != nullptr);      // label overruns
  CHECK(b.add("\xc0\x0c"sv, NameMode::kSuffix, 1) != nullptr);            // a pointer
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "\x03" "abc";
  long_name.push_back('\0');  // 257 bytes
  CHECK(b.add(long_name, NameMode::kSuffix, 1) != nullptr);
  CHECK(b.key_count() == 0);
  const NameIndex x = b.build();
  CHECK(name_index_check(x) == nullptr);
  CHECK(probe(x, "example.com").empty());

  // A default index is empty and safe to probe.
  const NameIndex empty;
  CHECK(name_index_check(empty) == nullptr);
  CHECK(probe(empty, "example.com").empty());
}

TEST_CASE("name index: the check finds corrupted tables", "[stdlib][name]") {
  NameIndexBuilder b;
  add(b, "example.com", NameMode::kSuffix, 1);
  add(b, "example.org", NameMode::kExact, 2);
  add(b, "org", NameMode::kExact, 3);
  const NameIndex good = b.build();
  REQUIRE(name_index_check(good) == nullptr);

  NameIndex x = good;
  x.slots.pop_back();
  CHECK(name_index_check(x) != nullptr);
  x = good;
  for (size_t s = 0; s < x.slots.size(); s += 2) x.slots[s] ^= 1;  // every tag wrong
  CHECK(name_index_check(x) != nullptr);
  x = good;
  x.id_begin[1] = 1000;
  CHECK(name_index_check(x) != nullptr);
  x = good;
  x.key_bytes[0] = 0x40;
  CHECK(name_index_check(x) != nullptr);
  x = good;
  x.length_mask = {};
  CHECK(name_index_check(x) != nullptr);
}

TEST_CASE("name index: probing wire bytes agrees with probing the view", "[stdlib][name]") {
  NameIndexBuilder b;
  add(b, "example.com", NameMode::kSuffix, 1);
  add(b, "www.example.com", NameMode::kExact, 2);
  REQUIRE(b.add("\x00"sv, NameMode::kSuffix, 3) == nullptr);
  const NameIndex x = b.build();
  for (const char* name : {"www.example.com", "example.com", "a.www.example.com", "com", "."}) {
    const std::string w = wire(name);
    uint32_t out[8];
    const uint32_t n =
        name_probe_wire(x, reinterpret_cast<const uint8_t*>(w.data()), w.size(), out, 8);
    CHECK(Ids(out, out + n) == probe(x, name));
  }
  uint32_t out[8];
  CHECK(name_probe_wire(x, reinterpret_cast<const uint8_t*>("\x03" "com"), 4, out, 8) == 0);
}

namespace {

std::string random_label(std::mt19937& rng) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
  std::uniform_int_distribution<int> len(1, 12);
  std::uniform_int_distribution<int> ch(0, sizeof kChars - 2);
  std::string s(static_cast<size_t>(len(rng)), 'a');
  for (char& c : s) c = kChars[ch(rng)];
  return s;
}

// Names drawn from a shallow tree, so that keys share suffixes.
std::string random_name(std::mt19937& rng, const std::vector<std::string>& tlds,
                        const std::vector<std::string>& seconds) {
  std::string name = tlds[rng() % tlds.size()];
  if (rng() % 64 == 0) return name;
  name = seconds[rng() % seconds.size()] + "." + name;
  const int more = static_cast<int>(rng() % 4);
  for (int i = 0; i < more; ++i) name = random_label(rng) + "." + name;
  return name;
}

// The dotted suffixes of a name, the name first and "" (the root) last.
std::vector<std::string> suffixes(const std::string& name) {
  std::vector<std::string> out{name};
  size_t dot = 0;
  while ((dot = name.find('.', dot)) != std::string::npos) out.push_back(name.substr(++dot));
  out.push_back("");
  return out;
}

std::string upper_some(std::string s, std::mt19937& rng) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z' && rng() % 3 == 0) c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

}  // namespace

TEST_CASE("name index: 200k random names agree with an oracle", "[stdlib][name]") {
  std::mt19937 rng(20240601);
  std::vector<std::string> tlds, seconds;
  for (int i = 0; i < 20; ++i) tlds.push_back(random_label(rng));
  for (int i = 0; i < 3000; ++i) seconds.push_back(random_label(rng));

  // Oracle: dotted name -> (exact ids, suffix ids).
  std::map<std::string, std::pair<std::set<uint32_t>, std::set<uint32_t>>> oracle;
  std::vector<std::string> key_names;
  NameIndexBuilder b;
  constexpr uint32_t kEntries = 200000;
  for (uint32_t i = 0; i < kEntries; ++i) {
    std::string name = rng() % 5000 == 0 ? std::string() : random_name(rng, tlds, seconds);
    const bool suffix = rng() % 2 == 0;
    const uint32_t id = static_cast<uint32_t>(rng() % 50000);
    REQUIRE(b.add(wire(name), suffix ? NameMode::kSuffix : NameMode::kExact, id) == nullptr);
    auto& entry = oracle[name];
    (suffix ? entry.second : entry.first).insert(id);
    key_names.push_back(name);
  }
  const NameIndex x = b.build();
  REQUIRE(x.key_count == oracle.size());
  REQUIRE(name_index_check(x) == nullptr);

  // The hash spreads the keys: no key sits far from its home slot.
  uint32_t longest = 0;
  for (uint32_t s = 0; s <= x.slot_mask; ++s) {
    const uint32_t k1 = x.slots[2 * s + 1];
    if (k1 == 0) continue;
    const uint32_t b0 = x.key_begin[k1 - 1];
    const uint64_t h = flat::hash_bytes(x.key_bytes.data() + b0, x.key_begin[k1] - b0);
    longest = std::max(longest, (s - static_cast<uint32_t>(h)) & x.slot_mask);
  }
  CHECK(longest < 64);

  auto expected = [&](const std::string& name) {
    std::set<uint32_t> ids;
    for (const std::string& suffix : suffixes(name)) {
      const auto it = oracle.find(suffix);
      if (it == oracle.end()) continue;
      ids.insert(it->second.second.begin(), it->second.second.end());
      if (suffix == name) ids.insert(it->second.first.begin(), it->second.first.end());
    }
    return Ids(ids.begin(), ids.end());
  };

  for (int i = 0; i < 20000; ++i) {
    std::string name;
    switch (rng() % 4) {
      case 0:  // a key itself
        name = key_names[rng() % key_names.size()];
        break;
      case 1:  // below a key
        name = random_label(rng) + "." + key_names[rng() % key_names.size()];
        if (name.back() == '.') name.pop_back();
        break;
      case 2:  // from the same tree
        name = random_name(rng, tlds, seconds);
        break;
      default:  // unrelated
        name = random_label(rng) + "." + random_label(rng);
        break;
    }
    INFO(name);
    REQUIRE(probe(x, upper_some(name, rng)) == expected(name));
  }
}

TEST_CASE("name index: small random sets agree with a full scan", "[stdlib][name]") {
  std::mt19937 rng(7);
  const std::vector<std::string> labels{"a", "b", "ab", "ba", "com", "x"};
  auto name_of = [&](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s = labels[rng() % labels.size()] + (s.empty() ? "" : "." + s);
    return s;
  };
  struct Entry {
    std::string name;
    bool suffix;
    uint32_t id;
  };
  for (int round = 0; round < 20; ++round) {
    std::vector<Entry> entries;
    NameIndexBuilder b;
    for (int i = 0; i < 60; ++i) {
      Entry e{name_of(static_cast<int>(rng() % 4)), rng() % 2 == 0, static_cast<uint32_t>(rng() % 40)};
      REQUIRE(b.add(wire(e.name), e.suffix ? NameMode::kSuffix : NameMode::kExact, e.id) == nullptr);
      entries.push_back(e);
    }
    const NameIndex x = b.build();
    for (int i = 0; i < 200; ++i) {
      const std::string q = name_of(static_cast<int>(rng() % 6));
      std::set<uint32_t> want;
      for (const Entry& e : entries) {
        const bool equal = q == e.name;
        const bool under = e.name.empty() ||
                           (q.size() > e.name.size() && q.ends_with(e.name) &&
                            q[q.size() - e.name.size() - 1] == '.');
        if (equal || (e.suffix && under)) want.insert(e.id);
      }
      INFO(q);
      CHECK(probe(x, q) == Ids(want.begin(), want.end()));
    }
  }
}
