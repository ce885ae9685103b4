// The emitted IR, parsed back and inspected: calls only to the probe
// allowlist, no opcode dispatcher, no rule data in the code, and a size that
// depends on the rule shapes, not on the number of rules.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <set>

#include "ir_inspect.h"
#include "jit_test_support.h"
#include "wide_policy.h"

using namespace dnspc;
using testing::inspect_ir;
using testing::IrReport;

namespace {

const std::set<std::string> kAllowlist = {"dnspc_name_probe", "dnspc_prefix_probe",
                                          "dnspc_qtype_ids", "dnspc_rate_over",
                                          "dnspc_lua_predicate"};

// Intrinsics are not calls out of the code, except the memory ones, which
// may become calls to libc.
bool allowed_callee(const std::string& name) {
  if (kAllowlist.count(name)) return true;
  if (name.starts_with("llvm.mem")) return false;
  return name.starts_with("llvm.");
}

IrReport emit(const std::string& policy_text, bool optimized) {
  std::string error;
  auto policy = testing::optimized_policy(policy_text, error);
  INFO(error);
  REQUIRE(policy);
  std::string ir = testing::test_engine().emit_llvm(*policy, error, optimized);
  INFO(error);
  REQUIRE(!ir.empty());
  IrReport r = inspect_ir(ir);
  INFO(r.error);
  REQUIRE(r.error.empty());
  return r;
}

void check_calls(const IrReport& r) {
  for (const auto& [callee, count] : r.callees) {
    INFO("call to " << callee << " (" << count << " times)");
    CHECK(allowed_callee(callee));
  }
  CHECK(r.indirect_calls == 0);
  CHECK(r.indirect_branches == 0);
  CHECK(r.blockaddresses == 0);
  // Tables are data the code points at, never part of the module.
  CHECK(r.global_variables == 0);
  CHECK(r.exported == std::vector<std::string>{"dnspc_decide"});
}

// Every kind of test, as conditions of one shape each.
const char* const kEveryKind = R"(
pool p0 { server 192.0.2.10; }
suffixes zs = { "example.com.", "b.example." };
rule by_name: qname suffix "a.example." or qname == "b.example." or qname in zs => drop;
rule regexes: qname ~ /^x[0-9]+\./ or qname ~ /^[a-z]+\.example\.$/ => refuse;
rule fields: qname.labels > 3 and qname.length <= 40 and size >= 30 and edns.version == 0 and edns.payload < 4096 => drop;
rule kinds: qtype in { A, TYPE300 } and qclass == CH and opcode == NOTIFY and rd and not cd => drop;
rule edns: edns and edns.do and edns.option == NSID and edns.option == 100 => drop;
rule addresses: (src in { 10.0.0.0/8, 2001:db8::/32 } or dst in 127.0.0.1) and tcp => drop;
rule chance: udp and probability 0.5 => truncate;
rule bound: qname suffix "q.example." and qps > 10 per src/24 => drop;
rule global_bound: qps > 100 => drop;
rule tags: tagged "t" => tag "t" pool p0;
rule default: true => pool p0;
)";

// `n` rules cycling through a fixed list of shapes (the benchmark's mix and
// more), each with its own values.
std::string repeated_shapes(unsigned n) {
  std::string out = "pool p0 { server 192.0.2.10; }\n";
  for (unsigned i = 0; i < n; ++i) {
    switch (i % 8) {
      case 0:
        out += fmt::format("rule r{}: qname suffix \"s{}.example.\" => drop;\n", i, i);
        break;
      case 1:
        out += fmt::format("rule r{}: src in 10.{}.{}.0/24 => drop;\n", i, i / 256 % 256, i % 256);
        break;
      case 2:
        out += fmt::format("rule r{}: qname ~ /^[a-z]+{}\\.re\\.example\\.$/ => drop;\n", i, i);
        break;
      case 3:
        out += fmt::format("rule r{}: qtype == TXT and qname suffix \"q{}.example.\" => drop;\n", i,
                           i);
        break;
      case 4:
        out += fmt::format("rule r{}: qname == \"e{}.example.\" and size > {} => refuse;\n", i, i,
                           30 + i % 50);
        break;
      case 5:
        out +=
            fmt::format("rule r{}: qname suffix \"p{}.example.\" and qps > {} per src => drop;\n",
                        i, i, 1 + i % 90);
        break;
      case 6:
        out +=
            fmt::format("rule r{}: qname suffix \"t{}.example.\" and not rd => truncate;\n", i, i);
        break;
      default:
        out += fmt::format("rule r{}: qname ~ /x{}[0-9]+/ => drop;\n", i, i);
        break;
    }
  }
  out += "rule default: true => pool p0;\n";
  return out;
}

}  // namespace

TEST_CASE("emitted code calls only the probe allowlist", "[jit][ir]") {
  for (bool optimized : {false, true}) {
    INFO((optimized ? "after O2" : "as emitted"));
    check_calls(emit(kEveryKind, optimized));
    check_calls(emit(repeated_shapes(40), optimized));
    testing::WidePolicy gen(7);
    for (int i = 0; i < 20; ++i) {
      const std::string text = gen.policy(30);
      INFO(text);
      check_calls(emit(text, optimized));
    }
  }
}

TEST_CASE("emitted code has no opcode dispatcher", "[jit][ir]") {
  // 200 rules of one shape holding seven kinds of tests, and the catch-all:
  // an interpreter would switch (or jump through a table) over test kinds;
  // native code has one switch, over the two shapes, and none after O2.
  std::string one_shape = "pool p0 { server 192.0.2.10; }\n";
  for (int i = 0; i < 200; ++i) {
    one_shape += fmt::format(
        "rule r{}: qname suffix \"s{}.example.\" and (qtype == TYPE{} or edns.payload > {}) and "
        "not (cd or size < {}) "
        "and qname ~ /^w{}\\.s{}\\.example\\.$/ and qclass == IN => drop;\n",
        i, i, 1 + i, 500 + i, 40 + i % 20, i, i);
  }
  one_shape += "rule default: true => pool p0;\n";
  for (bool optimized : {false, true}) {
    INFO((optimized ? "after O2" : "as emitted"));
    IrReport r = emit(one_shape, optimized);
    check_calls(r);
    if (optimized) {
      CHECK(r.switch_cases.empty());
    } else {
      CHECK(r.switch_cases == std::vector<size_t>{2});
    }
  }

  // Several shapes: one switch, over shape ids, one case per shape.
  std::string text = kEveryKind;
  std::string error;
  auto policy = testing::optimized_policy(text, error);
  REQUIRE(policy);
  auto native = testing::test_engine().compile(policy, error);
  REQUIRE(native);
  const size_t shapes = native->stats().shapes;
  CHECK(shapes == policy->program.rules.size());  // every rule of kEveryKind has a shape of its own
  IrReport emitted = emit(text, false);
  REQUIRE(emitted.switch_cases.size() == 1);
  CHECK(emitted.switch_cases[0] == shapes);
  // 3 helpers (binary search, DFA loop, EDNS option scan), decide, one per shape.
  CHECK(emitted.defined_functions == 4 + shapes);
  IrReport optimized = emit(text, true);
  size_t cases = 0;
  for (size_t c : optimized.switch_cases) cases += c;
  CHECK(cases <= shapes);
}

TEST_CASE("emitted IR does not grow with the number of rules", "[jit][ir]") {
  for (bool optimized : {false, true}) {
    INFO((optimized ? "after O2" : "as emitted"));
    std::string error;
    auto small = testing::optimized_policy(repeated_shapes(80), error);
    auto large = testing::optimized_policy(repeated_shapes(800), error);
    REQUIRE(small);
    REQUIRE(large);
    const std::string small_ir = testing::test_engine().emit_llvm(*small, error, optimized);
    const std::string large_ir = testing::test_engine().emit_llvm(*large, error, optimized);
    IrReport a = inspect_ir(small_ir), b = inspect_ir(large_ir);
    REQUIRE(a.error.empty());
    REQUIRE(b.error.empty());
    CHECK(a.instructions == b.instructions);
    CHECK(a.instructions > 0);
    // No value of any rule is in the code: the two modules are the same text.
    CHECK(small_ir == large_ir);
  }
  std::string error;
  auto policy = testing::optimized_policy(repeated_shapes(800), error);
  auto native = testing::test_engine().compile(policy, error);
  REQUIRE(native);
  CHECK(native->stats().shapes == 9);  // 8 + the catch-all
}
