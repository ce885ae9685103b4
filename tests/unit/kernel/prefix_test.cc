// kernel::find_kernel_prefix (docs/xdp.md, "Eligibility"): which leading
// rules the XDP program runs, how each is folded into a lookup, the bits
// general rules' tests get, the budgets, and the reason the prefix ends,
// at the construct that ends it. Policies go through the real front end,
// lowering and optimiser, as `check` runs them.
#include <catch2/catch.hpp>

#include <string>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/kernel/prefix.h"
#include "dnspc/pipeline/pipeline.h"

using namespace dnspc;
using kernel::KernelLimits;
using kernel::KernelPrefix;
using kernel::RuleFold;

namespace {

const std::string kHead = "pool main { server 192.0.2.1; }\n";
const std::string kTail = "rule default: true => pool main;\n";

// The policy compiled as `check` compiles it, with its kernel prefix.
struct Compiled {
  diag::SourceManager sources;
  std::optional<pipeline::CompiledPolicy> policy;
  KernelPrefix prefix;

  Compiled(const std::string& rules, const KernelLimits& limits = {}) {
    diag::Diagnostics diags(sources);
    frontend::LoadOptions options;
    options.check_lua = false;  // no Lua file: the functions are not looked up
    auto r = frontend::load_policy_text("k.dp", kHead + rules, diags, options);
    INFO(diag::render_text(diags));
    REQUIRE(r.model);
    REQUIRE_FALSE(diags.has_errors());
    policy = pipeline::compile_model(std::move(*r.model));
    prefix = kernel::find_kernel_prefix(policy->optimized.program, limits);
  }

  const ir::Program& program() const { return policy->optimized.program; }
  // The text the prefix's end range covers.
  std::string end_text() const {
    REQUIRE(prefix.end_range.valid());
    return std::string(
        sources.text(prefix.end_range.file)
            .substr(prefix.end_range.begin, prefix.end_range.end - prefix.end_range.begin));
  }
  ir::TestKind kind(uint32_t test) const { return program().tests.at(test).kind; }
};

// The policy's rules, then the catch-all; the prefix must end at the
// catch-all (its `pool` action) after `expected` rules.
void expect_all_eligible(const std::string& rules, uint32_t expected) {
  Compiled c(rules + kTail);
  INFO(c.prefix.end_reason);
  CHECK(c.prefix.rules == expected);
  CHECK(c.end_text() == "pool main");
  CHECK(c.prefix.end_reason == "`pool main` forwards to a backend, which only user space does");
}

}  // namespace

TEST_CASE("every eligible test and action runs in the kernel", "[kernel]") {
  expect_all_eligible(
      "rule t1: true and not false => drop;\n"
      "rule t2: qname == \"a.example.\" and rd => refuse;\n"
      "rule t3: qname ~ /^x[0-9]+\\./ => rcode NXDOMAIN;\n"
      "rule t4: qname.labels > 5 or qname.length > 100 => truncate;\n"
      "rule t5: qtype in { A, AAAA } and qclass == CH => drop;\n"
      "rule t6: opcode == NOTIFY and cd and ad => drop;\n"
      "rule t7: edns and edns.do and edns.version > 0 and edns.payload < 512 => refuse;\n"
      "rule t8: src in 192.0.2.0/24 and dst in 198.51.100.1 => drop;\n"
      "rule t9: udp and size > 400 => truncate;\n"
      "rule t10: qname suffix \"q.example.\" and qps > 100 per src/24 => drop;\n"
      "rule t11: qname suffix \"p.example.\" and probability 0.5 => drop;\n"
      "rule t12: tcp and qps > 10 => rcode SERVFAIL;\n",
      12);
}

TEST_CASE("a policy whose every rule is eligible has no end reason", "[kernel]") {
  Compiled c("rule a: qname suffix \"a.example.\" => drop;\nrule default: true => refuse;\n");
  CHECK(c.prefix.rules == 2);
  CHECK(c.prefix.end_reason.empty());
  CHECK_FALSE(c.prefix.end_range.valid());
  CHECK(c.prefix.folds == std::vector<RuleFold>{RuleFold::kName, RuleFold::kGeneral});
}

TEST_CASE("folds: one name, source or destination test, or a qtype and a name, besides udp",
          "[kernel]") {
  Compiled c(
      "suffixes bad = { \"bad.example.\", \"evil.example.\" };\n"
      "rule n1: qname suffix \"a.example.\" => drop;\n"
      "rule n2: qname in bad => refuse;\n"
      "rule n3: qname == \"x.example.\" or qname suffix \"y.example.\" => drop;\n"  // merged into
                                                                                    // one test
      "rule s1: src in { 192.0.2.0/24, 2001:db8::/32 } => drop;\n"
      "rule d1: dst in 198.51.100.0/24 => drop;\n"
      "rule q1: qtype == ANY and qname suffix \"b.example.\" => refuse;\n"
      "rule q2: qname suffix \"c.example.\" and qtype in { A, AAAA } => drop;\n"
      "rule g1: qtype == ANY and qname suffix \"d.example.\" and rd => drop;\n"
      "rule g2: not qname suffix \"e.example.\" => drop;\n"
      "rule g3: qname suffix \"f.example.\" and tcp => drop;\n"  // never holds in the kernel: code
      "rule g4: qtype == ANY => drop;\n"
      "rule t1: qname suffix \"f.example.\" => truncate;\n"  // `udp and (...)`: udp always holds
                                                             // there
      "rule t2: udp and qtype == ANY and qname suffix \"g.example.\" => drop;\n" +
      kTail);
  CHECK(c.prefix.rules == 13);
  using F = RuleFold;
  CHECK(c.prefix.folds == std::vector<F>{F::kName, F::kName, F::kName, F::kSource, F::kDestination,
                                         F::kQtypeName, F::kQtypeName, F::kGeneral, F::kGeneral,
                                         F::kGeneral, F::kGeneral, F::kName, F::kQtypeName});
  REQUIRE(c.prefix.fold_tests.size() == 13);
  REQUIRE(c.prefix.fold_qtype_tests.size() == 13);
  for (uint32_t r : {0u, 1u, 2u, 5u, 6u, 11u, 12u})
    CHECK(c.kind(c.prefix.fold_tests[r]) == ir::TestKind::kName);
  CHECK(c.kind(c.prefix.fold_tests[3]) == ir::TestKind::kSource);
  CHECK(c.kind(c.prefix.fold_tests[4]) == ir::TestKind::kDestination);
  CHECK(c.kind(c.prefix.fold_qtype_tests[5]) == ir::TestKind::kQtype);
  CHECK(c.kind(c.prefix.fold_qtype_tests[6]) == ir::TestKind::kQtype);
  CHECK(c.kind(c.prefix.fold_qtype_tests[12]) == ir::TestKind::kQtype);
  for (uint32_t r : {0u, 1u, 2u, 3u, 4u, 11u})
    CHECK(c.prefix.fold_qtype_tests[r] == kernel::kNoTest);
  for (uint32_t r = 7; r < 11; ++r) {
    CHECK(c.prefix.fold_tests[r] == kernel::kNoTest);
    CHECK(c.prefix.fold_qtype_tests[r] == kernel::kNoTest);
  }
  CHECK(c.prefix.folded(F::kName) == 4);
  CHECK(c.prefix.folded(F::kQtypeName) == 3);
  CHECK(c.prefix.folded(F::kGeneral) == 4);
}

TEST_CASE("bits: each distinct test of a general rule, by kind; folded rules take none",
          "[kernel]") {
  Compiled c(
      "rule f1: qname suffix \"a.example.\" => drop;\n"  // folded: no bit
      "rule g1: qname suffix \"b.example.\" and rd => drop;\n"
      "rule g2: qname suffix \"b.example.\" and cd => drop;\n"  // the same test: the same bit
      "rule g3: src in 192.0.2.0/24 and src in 10.0.0.0/8 and rd => drop;\n"
      "rule g4: dst in 198.51.100.1 and qname suffix \"c.example.\" and ad => drop;\n"
      "rule g5: qname ~ /^x/ and rd => drop;\n" +
      kTail);
  REQUIRE(c.prefix.rules == 6);
  const ir::Program& p = c.program();
  std::vector<int> names, sources, destinations;
  for (uint32_t t = 0; t < p.tests.size(); ++t) {
    int bit = c.prefix.test_bit[t];
    switch (p.tests[t].kind) {
      case ir::TestKind::kName:
        if (t == c.prefix.fold_tests[0]) {
          CHECK(bit == -1);
        } else {
          names.push_back(bit);
        }
        break;
      case ir::TestKind::kSource:
        sources.push_back(bit);
        break;
      case ir::TestKind::kDestination:
        destinations.push_back(bit);
        break;
      default:
        CHECK(bit == -1);
        break;
    }
  }
  std::sort(names.begin(), names.end());
  std::sort(sources.begin(), sources.end());
  CHECK(names == std::vector<int>{0, 1});
  CHECK(sources == std::vector<int>{0, 1});
  CHECK(destinations == std::vector<int>{0});
  CHECK(c.prefix.name_bits == 2);
  CHECK(c.prefix.source_bits == 2);
  CHECK(c.prefix.destination_bits == 1);
  CHECK(c.prefix.general_regexes == 1);
  CHECK(c.prefix.general_tests == 2 + 2 + 3 + 3 + 2);
}

TEST_CASE("tests the kernel cannot evaluate end the prefix, at the test", "[kernel]") {
  struct Case {
    std::string condition, at, reason;
  };
  const Case cases[] = {
      {"lua check", "lua check", "`lua check` runs Lua, which the kernel cannot"},
      {"tagged \"seen\"", "tagged \"seen\"",
       "`tagged \"seen\"` reads tags, which only user space keeps"},
      {"edns.option == NSID", "edns.option == NSID",
       "`edns.option == 3` needs the OPT record's options, which the kernel does not parse"},
  };
  for (const Case& k : cases) {
    SECTION(k.condition) {
      std::string tagger =
          k.condition.starts_with("tagged") ? "rule t: rd => tag \"seen\" pool main;\n" : "";
      Compiled c(
          "rule a: qname suffix \"a.example.\" => drop;\n"
          "rule b: rd and " +
          k.condition + " => drop;\n" + tagger + kTail);
      CHECK(c.prefix.rules == 1);
      CHECK(c.prefix.end_reason == k.reason);
      CHECK(c.end_text() == k.at);
      CHECK(c.prefix.folds.size() == 1);
    }
  }
}

TEST_CASE("actions and modifiers the kernel cannot take end the prefix, at what was written",
          "[kernel]") {
  struct Case {
    std::string action, at, reason;
  };
  const Case cases[] = {
      {"log drop", "log", "the `log` modifier needs user space"},
      {"tag \"x\" drop", "tag \"x\"", "the `tag` modifier needs user space"},
      {"delay 10ms drop", "delay 10ms", "the `delay` modifier needs user space"},
      {"no_recurse refuse", "no_recurse", "the `no_recurse` modifier needs user space"},
      {"set_cd refuse", "set_cd", "the `set_cd` modifier needs user space"},
      {"no_cache drop", "no_cache", "the `no_cache` modifier needs user space"},
      {"log tag \"x\" drop", "log", "the `tag` and `log` modifiers need user space"},
      {"pool main", "pool main", "`pool main` forwards to a backend, which only user space does"},
      {"allow", "allow", "`allow (pool main)` forwards to a backend, which only user space does"},
      {"spoof A 192.0.2.1", "spoof A 192.0.2.1",
       "`spoof (1 record, ttl 60)` builds its answer in user space; the kernel answers only with "
       "drop, refuse, "
       "rcode and truncate"},
      {"lua act", "lua act", "`lua act` runs Lua, which the kernel cannot"},
  };
  for (const Case& k : cases) {
    SECTION(k.action) {
      Compiled c("rule a: src in 192.0.2.0/24 => drop;\nrule b: qname suffix \"b.example.\" => " +
                 k.action + ";\n" + kTail);
      CHECK(c.prefix.rules == 1);
      CHECK(c.prefix.end_reason == k.reason);
      CHECK(c.end_text() == k.at);
    }
  }
}

TEST_CASE("the `from rule` guard before a later Lua action holds in the kernel", "[kernel]") {
  // Rules up to the last Lua action carry `from rule N and (...)`; the kernel
  // decides from rule 0, where it holds, so the rules stay eligible and fold.
  Compiled c(
      "rule a: qname suffix \"a.example.\" => drop;\n"
      "rule b: qtype == ANY and qname suffix \"b.example.\" => refuse;\n"
      "rule c: src in 192.0.2.0/24 and rd => drop;\n"
      "rule l: qname suffix \"l.example.\" => lua act;\n" +
      kTail);
  const ir::Program& p = c.program();
  REQUIRE(p.nodes[p.rules[0].root].op == ir::Node::Op::kAnd);  // the guard is there
  CHECK(c.prefix.rules == 3);
  CHECK(c.prefix.folds ==
        std::vector<RuleFold>{RuleFold::kName, RuleFold::kQtypeName, RuleFold::kGeneral});
  CHECK(c.prefix.general_tests == 2);  // the guard is not code
  CHECK(c.end_text() == "lua act");
}

TEST_CASE("budgets: the first general rule past one ends the prefix", "[kernel]") {
  SECTION("regexes") {
    std::string rules;
    for (int i = 0; i < 34; ++i)
      rules += "rule r" + std::to_string(i) + ": qname ~ /^x" + std::to_string(i) + "y/ => drop;\n";
    Compiled c(rules + kTail);
    CHECK(c.prefix.rules == 32);
    CHECK(c.prefix.end_reason ==
          "a 33rd regex outside a plain match exceeds the kernel's budget of 32");
    CHECK(c.end_text() == "qname ~ /^x32y/");
    CHECK(c.prefix.general_regexes == 32);
  }
  SECTION("the same regex twice counts once") {
    std::string rules;
    for (int i = 0; i < 40; ++i)
      rules += "rule r" + std::to_string(i) + ": qname ~ /^same/ and rd => drop;\n";
    Compiled c(rules + kTail);
    CHECK(c.prefix.rules == 40);
    CHECK(c.prefix.general_regexes == 1);
  }
  SECTION("name bits") {
    KernelLimits limits;
    limits.name_bits = 3;
    Compiled c(
        "rule f: qname suffix \"f.example.\" => drop;\n"  // folded: free
        "rule a: qname suffix \"a.example.\" and rd => drop;\n"
        "rule b: qname suffix \"b.example.\" and (rd or qname suffix \"c.example.\") => drop;\n"
        "rule d: qname suffix \"a.example.\" and cd => drop;\n"  // a's bit again: free
        "rule e: qname suffix \"d.example.\" and qname suffix \"e.example.\" and rd => drop;\n" +
            kTail,
        limits);
    CHECK(c.prefix.rules == 4);
    CHECK(c.prefix.end_reason ==
          "a 4th name test outside a plain match exceeds the kernel's budget of 3");
    CHECK(c.end_text() == "qname suffix \"d.example.\"");
    CHECK(c.prefix.name_bits == 3);
  }
  SECTION("source and destination bits") {
    KernelLimits limits;
    limits.source_bits = 1;
    limits.destination_bits = 1;
    Compiled src(
        "rule a: src in 10.0.0.0/8 and rd => drop;\nrule b: src in 192.0.2.0/24 and rd => drop;\n" +
            kTail,
        limits);
    CHECK(src.prefix.rules == 1);
    CHECK(src.prefix.end_reason ==
          "a 2nd source netmask test outside a plain match exceeds the kernel's budget of 1");
    CHECK(src.end_text() == "src in 192.0.2.0/24");
    Compiled dst(
        "rule a: dst in 10.0.0.1 and rd => drop;\nrule b: dst in 10.0.0.2 and cd => drop;\n" +
            kTail,
        limits);
    CHECK(dst.prefix.rules == 1);
    CHECK(dst.prefix.end_reason ==
          "a 2nd destination netmask test outside a plain match exceeds the kernel's budget of 1");
  }
  SECTION("general rules; folded ones are free") {
    KernelLimits limits;
    limits.general_rules = 2;
    Compiled c(
        "rule a: rd => drop;\nrule f: qname suffix \"f.example.\" => drop;\nrule b: cd => drop;\n"
        "rule c: ad => drop;\n" +
            kTail,
        limits);
    CHECK(c.prefix.rules == 3);
    CHECK(c.prefix.end_reason ==
          "a 3rd rule that is not a plain match exceeds the kernel's budget of 2");
    CHECK(c.end_text() == "c");
  }
  SECTION("general tests") {
    KernelLimits limits;
    limits.general_tests = 4;
    Compiled c("rule a: rd and cd => drop;\nrule b: ad and tc and rd => drop;\n" + kTail, limits);
    CHECK(c.prefix.rules == 1);
    CHECK(c.prefix.end_reason ==
          "its 3 tests would bring the tests of rules that are not plain matches to 5, past the "
          "kernel's budget of 4");
    CHECK(c.end_text() == "b");
    CHECK(c.prefix.general_tests == 2);
  }
  SECTION("default budgets, named with thousands") {
    KernelLimits limits;
    limits.general_rules = 4096;
    std::string rules;
    for (int i = 0; i < 4097; ++i)
      rules += "rule r" + std::to_string(i) + ": size > " + std::to_string(i) + " => drop;\n";
    Compiled c(rules + kTail, limits);
    CHECK(c.prefix.rules == 4096);
    CHECK(c.prefix.end_reason ==
          "a 4,097th rule that is not a plain match exceeds the kernel's budget of 4,096");
  }
}

TEST_CASE("a response program has no kernel prefix", "[kernel]") {
  Compiled c("rule a: qname suffix \"a.example.\" => drop;\n" + kTail +
             "response rule slow: latency > 100ms => log;\n");
  const ir::Program& responses = c.policy->response_optimized.program;
  REQUIRE(responses.responses);
  KernelPrefix r = kernel::find_kernel_prefix(responses);
  CHECK(r.rules == 0);
  CHECK(r.folds.empty());
  CHECK(r.end_reason == "response rules act on the backend's answers, which the kernel never sees");
  CHECK(r.end_range.valid());
  // The query program is unaffected.
  CHECK(c.prefix.rules == 1);
}

TEST_CASE("a hand-built program: no rules, and ranges missing", "[kernel]") {
  ir::Program empty;
  KernelPrefix none = kernel::find_kernel_prefix(empty);
  CHECK(none.rules == 0);
  CHECK(none.end_reason.empty());

  // Without source ranges the end falls back to the rule's (here: none).
  ir::Program p;
  p.tests.push_back({ir::TestKind::kLua, ir::Compare::kEq, 0, 0, {}});
  p.lua_functions.push_back("f");
  p.nodes.push_back({ir::Node::Op::kTest, 0, {}});
  p.rules.push_back({"r", 0, {}, {}});
  KernelPrefix lua = kernel::find_kernel_prefix(p);
  CHECK(lua.rules == 0);
  CHECK(lua.end_reason == "`lua f` runs Lua, which the kernel cannot");
  CHECK(lua.test_bit == std::vector<int>{-1});
}

TEST_CASE("a regex under one name folds, one that may match anywhere is general code", "[kernel]") {
  Compiled c(
      "rule r1: qname ~ /^[a-z0-9]{12,}\\.rand\\.example\\.$/ => drop;\n"  // under rand.example.
      "rule r2: qname ~ /^www[0-9]*\\./ => drop;\n"                           // no DNS suffix
      "rule r3: qname ~ /^x\\.rand\\.example\\.$/ and rd => drop;\n" +         // a compound condition
      kTail);
  REQUIRE(c.prefix.rules == 3);
  using F = RuleFold;
  CHECK(c.prefix.folds == std::vector<F>{F::kRegex, F::kGeneral, F::kGeneral});
  CHECK(c.kind(c.prefix.fold_tests[0]) == ir::TestKind::kRegex);
  CHECK(c.prefix.general_regexes == 2);  // only the general rules' regexes use the budget
}
