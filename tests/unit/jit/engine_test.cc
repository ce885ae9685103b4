// The engine's life cycle: compile, run, free one policy while another
// runs and while a third compiles; errors at the boundary; the state's
// scratch memory.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/wire.h"
#include "jit_test_support.h"

using namespace dnspc;

namespace {

const char* const kPolicy = R"(
pool main { server 192.0.2.1; }
pool abuse { server 192.0.2.2; }
rule bad: qname suffix "bad.example." => drop;
rule nets: src in { 192.0.2.0/24, 2001:db8::/32 } and qtype == ANY => refuse;
rule words: qname ~ /^[a-z]{12,}\.example\.com\.$/ => pool abuse;
rule shaped: qname suffix "busy.example." and qps > 2 => rcode SERVFAIL;
rule default: true => pool main;
)";

QueryView view_of(const std::string& name, uint16_t qtype = 1, const char* source = "127.0.0.1") {
  static std::vector<std::vector<uint8_t>> packets;  // views point into their packets
  std::vector<uint8_t> p = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  uint8_t wire[256];
  size_t len = encode_name(name, wire, sizeof wire);
  p.insert(p.end(), wire, wire + len);
  p.push_back(static_cast<uint8_t>(qtype >> 8));
  p.push_back(static_cast<uint8_t>(qtype));
  p.push_back(0);
  p.push_back(1);
  packets.push_back(std::move(p));
  QueryView v;
  REQUIRE(parse_query(packets.back().data(), packets.back().size(), Transport::kUdp, v) ==
          ParseError::kOk);
  v.source = *NetAddress::parse(source);
  v.destination = *NetAddress::parse("127.0.0.1", 53);
  return v;
}

std::string rule_of(const jit::NativePolicy& native, const Verdict& v) {
  const auto& rules = native.policy().program.rules;
  return v.rule < rules.size() ? rules[v.rule].name : "none";
}

}  // namespace

TEST_CASE("a compiled policy decides like the interpreter", "[jit][engine]") {
  std::string error;
  ir::Program reference;
  auto policy = testing::optimized_policy(kPolicy, error, &reference);
  REQUIRE(policy);
  auto native = testing::test_engine().compile(policy, error);
  INFO(error);
  REQUIRE(native);
  CHECK(native->stats().shapes >= 4);
  CHECK(native->stats().ir_instructions > 0);
  CHECK(native->scratch_words() > 0);
  ir::ProgramState state(policy->program);
  state.reserve_scratch(native->scratch_words());
  CHECK(rule_of(*native, native->decide(view_of("www.bad.example."), state.for_query(0))) == "bad");
  CHECK(rule_of(*native, native->decide(view_of("x.example."), state.for_query(0))) == "default");
  CHECK(rule_of(*native, native->decide(view_of("a.example.", 255, "192.0.2.7"),
                                        state.for_query(0))) == "nets");
  CHECK(rule_of(*native, native->decide(view_of("a.example.", 255, "2001:db8::1"),
                                        state.for_query(0))) == "nets");
  CHECK(rule_of(*native, native->decide(view_of("a.example.", 1, "2001:db8::1"),
                                        state.for_query(0))) == "default");
  CHECK(rule_of(*native, native->decide(view_of("abcdefghijklm.example.com."),
                                        state.for_query(0))) == "words");
  CHECK(rule_of(*native, native->decide(view_of("abc.example.com."), state.for_query(0))) ==
        "default");
  // Two tokens of burst, then over the bound, at one instant.
  for (const char* want : {"default", "default", "shaped", "shaped"}) {
    CHECK(rule_of(*native, native->decide(view_of("busy.example."), state.for_query(5))) == want);
  }
  // The verdict carries the rule's action and argument.
  Verdict v = native->decide(view_of("abcdefghijklm.example.com."), state.for_query(0));
  CHECK(v == policy->program.verdict_of(v.rule));
  CHECK(v.action == ActionKind::kPool);
}

TEST_CASE("policies are freed while others run and compile", "[jit][engine]") {
  std::string error;
  auto policy = testing::optimized_policy(kPolicy, error);
  REQUIRE(policy);
  auto keeper = testing::test_engine().compile(policy, error);
  REQUIRE(keeper);
  ir::ProgramState state(policy->program);
  state.reserve_scratch(keeper->scratch_words());
  const QueryView bad = view_of("www.bad.example.");

  // A thread compiles and frees policies while this one decides.
  std::atomic<bool> done{false};
  std::atomic<int> compiled{0};
  std::string thread_error;
  std::thread worker([&] {
    for (int i = 0; i < 20; ++i) {
      std::string e;
      auto p = testing::optimized_policy(kPolicy, e);
      auto n = p ? testing::test_engine().compile(p, e) : nullptr;
      if (!n) {
        thread_error = e;
        break;
      }
      ir::ProgramState s(p->program);
      s.reserve_scratch(n->scratch_words());
      if (n->decide(bad, s.for_query(0)).rule != 0) thread_error = "wrong verdict";
      ++compiled;
      // n goes here: its JITDylib and resource tracker are removed.
    }
    done = true;
  });
  uint64_t decisions = 0, wrong = 0;
  while (!done) {
    if (keeper->decide(bad, state.for_query(0)).rule != 0) ++wrong;
    ++decisions;
  }
  CHECK(wrong == 0);
  worker.join();
  CHECK(thread_error.empty());
  CHECK(compiled == 20);
  CHECK(decisions > 0);
  // Still alive after all the others were freed.
  CHECK(keeper->decide(bad, state.for_query(0)).rule == 0);
}

TEST_CASE("a policy outlives its engine", "[jit][engine]") {
  std::string error;
  auto engine = jit::Engine::create(error);
  REQUIRE(engine);
  auto policy = testing::optimized_policy(kPolicy, error);
  auto native = engine->compile(policy, error);
  REQUIRE(native);
  engine.reset();
  ir::ProgramState state(policy->program);
  CHECK(native->decide(view_of("www.bad.example."), state.for_query(0)).rule == 0);
}

TEST_CASE("Lua predicates call the state's Lua runtime through the allowlist", "[jit][engine]") {
  std::string error;
  auto policy = testing::optimized_policy(
      "pool p { server 192.0.2.1; }\nrule l: lua deep and udp => drop;\nrule default: true => pool "
      "p;\n",
      error);
  REQUIRE(policy);
  auto native = testing::test_engine().compile(policy, error);
  INFO(error);
  REQUIRE(native);
  CHECK(testing::test_engine().emit_llvm(*policy, error).find("dnspc_lua_predicate") != std::string::npos);
  ir::ProgramState state(policy->program);
  state.reserve_scratch(native->scratch_words());
  // No Lua runtime bound: the predicate is false.
  CHECK(native->decide(view_of("www.example."), state.for_query(0)).rule == 1);
  // A runtime that says yes for function 0 and counts its calls.
  static int calls = 0;
  DecisionState& s = state.for_query(0);
  s.lua_predicate = [](void*, uint32_t function, const QueryView*) {
    ++calls;
    return function == 0;
  };
  CHECK(native->decide(view_of("www.example."), s).rule == 0);
  CHECK(calls == 1);
  // A Lua action is only a verdict: it compiles.
  policy = testing::optimized_policy(
      "pool p { server 192.0.2.1; }\nrule l: qname suffix \"x.\" => lua act;\nrule default: true "
      "=> pool p;\n",
      error);
  REQUIRE(policy);
  CHECK(testing::test_engine().compile(policy, error) != nullptr);
}

TEST_CASE("a state without scratch memory still decides", "[jit][engine]") {
  std::string error;
  auto policy = testing::optimized_policy(kPolicy, error);
  auto native = testing::test_engine().compile(policy, error);
  REQUIRE(native);
  ir::ProgramState bare(policy->program);  // no reserve_scratch
  CHECK(bare.state().scratch == nullptr);
  CHECK(native->decide(view_of("www.bad.example."), bare.for_query(0)).rule == 0);
  CHECK(native->decide(view_of("a.example.", 255, "192.0.2.9"), bare.for_query(0)).rule == 1);
  CHECK(bare.state().scratch == nullptr);  // given back as it was
}

TEST_CASE("a program where no rule matches returns the no-rule verdict", "[jit][engine]") {
  // Checked policies always end with a catch-all; a hand-built program need not.
  ir::Program p;
  ir::Test never;
  never.kind = ir::TestKind::kFalse;
  p.tests.push_back(never);
  p.nodes.emplace_back();  // a test node for test 0
  ir::Rule rule;
  rule.name = "never";
  p.rules.push_back(rule);
  p.pools.push_back("p");
  auto policy = std::make_shared<const opt::OptimizedPolicy>(opt::optimize(p));
  std::string error;
  auto native = testing::test_engine().compile(policy, error);
  REQUIRE(native);
  ir::ProgramState state(policy->program);
  state.reserve_scratch(native->scratch_words());
  const Verdict v = native->decide(view_of("a.example."), state.for_query(0));
  CHECK(v == interp::interpret(p, view_of("a.example."), state.for_query(0)));
  CHECK(v.rule == 1);
  CHECK(v.action == ActionKind::kDrop);
}

TEST_CASE("emit_llvm prints the module", "[jit][engine]") {
  std::string error;
  auto policy = testing::optimized_policy(kPolicy, error);
  const std::string raw = testing::test_engine().emit_llvm(*policy, error, false);
  const std::string optimized = testing::test_engine().emit_llvm(*policy, error, true);
  CHECK(raw.find("define i64 @dnspc_decide(") != std::string::npos);
  CHECK(raw.find("define internal i1 @shape.0(") != std::string::npos);
  CHECK(raw.find("declare i32 @dnspc_name_probe(") != std::string::npos);
  CHECK(optimized.find("@dnspc_decide(") != std::string::npos);
}

TEST_CASE("many facts for one query fit the scratch buffer", "[jit][engine]") {
  // 300 distinct name sets, prefix sets and qtype sets that all hold the
  // query's name, source and type: 300 facts per lookup, past the C++
  // evaluator's fixed buffers (it falls back to the interpreter there;
  // native code has no fallback, only a scratch size bound from the tables).
  std::string text = "pool p { server 192.0.2.1; }\n";
  for (int i = 0; i < 300; ++i) {
    text += fmt::format(
        "rule n{}: qname in {{ \"x.example.\", \"y{}.example.\" }} and size > {} => drop;\n", i, i,
        1000 + i);
    text += fmt::format("rule s{}: src in {{ 10.0.0.0/8, 10.{}.{}.0/24 }} and size > {} => drop;\n",
                        i, i / 250, i % 250, 1000 + i);
    text += fmt::format("rule q{}: qtype in {{ A, TYPE{} }} and size > {} => drop;\n", i, 1000 + i,
                        1000 + i);
  }
  text += "rule last: qname == \"x.example.\" and src in 10.0.0.0/8 and qtype == A => refuse;\n";
  text += "rule default: true => pool p;\n";
  std::string error;
  ir::Program reference;
  auto policy = testing::optimized_policy(text, error, &reference);
  INFO(error);
  REQUIRE(policy);
  auto native = testing::test_engine().compile(policy, error);
  REQUIRE(native);
  CHECK(native->scratch_words() >= 3 * 300);
  ir::ProgramState state(policy->program), ref_state(reference);
  state.reserve_scratch(native->scratch_words());
  const QueryView v = view_of("x.example.", 1, "10.1.2.3");
  const Verdict got = native->decide(v, state.for_query(0));
  CHECK(got == interp::interpret(reference, v, ref_state.for_query(0)));
  CHECK(rule_of(*native, got) == "last");
}
