// Minimisation and table layout: known minimal sizes, canonical numbering,
// class compression, and a brute-force minimality check on random patterns.
#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "regex_test_support.h"

using namespace dnspc;
using namespace dnspc::regex;

namespace {

DfaTable compile_ok(const char* pattern) {
  auto t = compile_regex(pattern);
  INFO("pattern /" << pattern << "/");
  REQUIRE(t.ok());
  REQUIRE(dfa_table_check(t.value()) == nullptr);
  return t.value();
}

// Moore's refinement, the slow obvious way: the number of classes of states
// no text can tell apart. A minimal DFA has one state per class.
uint32_t equivalence_classes(const DfaTable& t) {
  std::vector<uint32_t> block(t.state_count, 0);
  size_t count = 1;
  for (;;) {
    std::map<std::vector<uint32_t>, uint32_t> ids;
    std::vector<uint32_t> next_block(t.state_count);
    for (uint32_t s = 0; s < t.state_count; ++s) {
      std::vector<uint32_t> sig{block[s]};
      auto accepted = dfa_accepted(t, s);
      sig.insert(sig.end(), accepted.begin(), accepted.end());
      sig.push_back(UINT32_MAX);
      for (uint32_t c = 0; c < t.class_count; ++c) sig.push_back(block[t.next[s * t.class_count + c]]);
      next_block[s] = ids.try_emplace(sig, static_cast<uint32_t>(ids.size())).first->second;
    }
    block = next_block;
    if (ids.size() == count) return static_cast<uint32_t>(count);
    count = ids.size();
  }
}

// No two byte classes have equal columns.
bool classes_are_distinct(const DfaTable& t) {
  std::map<std::vector<uint16_t>, int> columns;
  for (uint32_t c = 0; c < t.class_count; ++c) {
    std::vector<uint16_t> col;
    for (uint32_t s = 0; s < t.state_count; ++s) col.push_back(t.next[s * t.class_count + c]);
    if (!columns.emplace(col, 0).second) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("^(a|b)*abb$ has the textbook 4 live states plus dead", "[regex][minimize]") {
  DfaTable t = compile_ok("^(a|b)*abb$");
  CHECK(t.state_count == 5);
  CHECK(t.sink_count == 1);
  CHECK(t.class_count == 3);  // a, b, everything else
  CHECK(t.byte_class['A'] == t.byte_class['a']);
  CHECK(t.byte_class['B'] == t.byte_class['b']);
  CHECK(t.byte_class['c'] == t.byte_class['.']);
}

TEST_CASE("known minimal sizes", "[regex][minimize]") {
  struct Size {
    const char* pattern;
    uint32_t states, sinks, classes;
  };
  for (const Size& s : {
           Size{"^abc$", 5, 1, 4},         // dead, start, a, ab, abc
           Size{"abc", 5, 2, 4},           // dead (unreachable), accept-all, start, a, ab
           Size{"a", 3, 2, 2},             // dead, accept-all, start
           Size{"^a*$", 2, 1, 2},          // dead, a*
           Size{"a*", 2, 2, 1},            // matches at once: start is the accept sink
           Size{"^a{3}$", 5, 1, 2},        //
           Size{"^a{2,4}$", 6, 1, 2},      // dead, 0..4 a's (2, 3, 4 accepting)
           Size{"^[a-z0-9]{16,}\\.example\\.com\\.$", 31, 1, 0},
       }) {
    INFO("pattern /" << s.pattern << "/");
    DfaTable t = compile_ok(s.pattern);
    CHECK(t.state_count == s.states);
    CHECK(t.sink_count == s.sinks);
    if (s.classes) CHECK(t.class_count == s.classes);
    CHECK(equivalence_classes(t) == t.state_count);
  }
}

TEST_CASE("equivalent regexes compile to identical tables", "[regex][minimize]") {
  auto same = [](const char* a, const char* b) {
    INFO("/" << a << "/ vs /" << b << "/");
    DfaTable x = compile_ok(a), y = compile_ok(b);
    CHECK(x.state_count == y.state_count);
    CHECK(x.start == y.start);
    CHECK(x.sink_count == y.sink_count);
    CHECK(x.byte_class == y.byte_class);
    CHECK(x.next == y.next);
    CHECK(x.accepting == y.accepting);
  };
  same("^(a|b)*abb$", "^[ab]*abb$");
  same("^(a|b)*abb$", "^(b|a)*?a(b)(?:b)$");
  same("a+", "a");
  same("^(a*)*$", "^a*$");
  same("(x|X)y", "xy");
  same("^a{2,}$", "^aaa*$");
}

TEST_CASE("random patterns give minimal, compact, well-formed tables", "[regex][minimize]") {
  regex_test::PatternGenerator gen(20240601);
  for (int i = 0; i < 300; ++i) {
    const std::string p = gen.pattern();
    INFO("pattern /" << p << "/");
    auto t = compile_regex(p);
    REQUIRE(t.ok());
    REQUIRE(dfa_table_check(t.value()) == nullptr);
    CHECK(equivalence_classes(t.value()) == t->state_count);
    CHECK(classes_are_distinct(t.value()));
    // Sinks are exactly the states that loop on every byte.
    for (uint32_t s = t->sink_count; s < t->state_count; ++s) {
      bool loops = true;
      for (uint32_t c = 0; c < t->class_count; ++c) loops &= t->next[s * t->class_count + c] == s;
      CHECK_FALSE(loops);
    }
  }
}
