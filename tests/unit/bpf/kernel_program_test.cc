// The generated XDP program, verified by the kernel and run on frames.
#include <linux/bpf.h>

#include <catch2/catch.hpp>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/pipeline/pipeline.h"
#include "kernel_harness.h"
#include "packet_builder.h"

namespace dnspc::testing {
namespace {

pipeline::CompiledPolicy compile(const std::string& text) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("t.dp", text, diags, options);
  if (!loaded.model || diags.has_errors()) FAIL(diag::render_text(diags));
  return pipeline::compile_model(std::move(*loaded.model));
}

// Every rule but the last kept general (no folds), bits for every set test.
kernel::KernelPrefix general_prefix(const ir::Program& p) {
  kernel::KernelPrefix prefix;
  prefix.rules = static_cast<uint32_t>(p.rules.size() - 1);
  prefix.folds.assign(prefix.rules, kernel::RuleFold::kGeneral);
  prefix.fold_tests.assign(prefix.rules, 0);
  prefix.fold_qtype_tests.assign(prefix.rules, 0);
  prefix.test_bit.assign(p.tests.size(), -1);
  int names = 0, sources = 0;
  for (size_t i = 0; i < p.tests.size(); ++i) {
    if (p.tests[i].kind == ir::TestKind::kName) prefix.test_bit[i] = names++;
    if (p.tests[i].kind == ir::TestKind::kSource) prefix.test_bit[i] = sources++;
  }
  return prefix;
}

TEST_CASE("a small policy's kernel program passes the verifier and decides frames") {
  auto policy = compile(
      "listen 127.0.0.1:5353;\npool main { server 192.0.2.1; }\n"
      "rule a: qname suffix \"evil.example.\" => drop;\n"
      "rule b: src in 10.1.0.0/16 => refuse;\n"
      "rule c: qtype == ANY and rd => truncate;\n"
      "rule d: qname ~ /^x[0-9]+\\.test\\.$/ => rcode NXDOMAIN;\n"
      "rule e: true => pool main;\n");
  const ir::Program& p = policy.optimized.program;
  std::string error;
  auto h = KernelHarness::load(p, general_prefix(p), 12345, error);
  INFO(error);
  REQUIRE(h);
  const NetAddress good = *NetAddress::parse("192.0.2.9"), bad = *NetAddress::parse("10.1.2.3");
  const NetAddress us = *NetAddress::parse("127.0.0.1");
  auto frame = [&](std::vector<uint8_t> dns, const NetAddress& from) { return udp_frame(dns, from, us, 12345, 53); };
  CHECK(h->run(frame(PacketBuilder().header(1, 0x0100, 1).question("www.evil.example.", 1).bytes(), good)).action == XDP_DROP);
  CHECK(h->run(frame(PacketBuilder().header(1, 0x0100, 1).question("www.good.example.", 1).bytes(), good)).action == XDP_PASS);
  CHECK(h->run(frame(PacketBuilder().header(1, 0x0100, 1).question("www.good.example.", 1).bytes(), bad)).action == XDP_TX);
  CHECK(h->run(frame(PacketBuilder().header(1, 0x0100, 1).question("a.b.", 255).bytes(), good)).action == XDP_TX);
  CHECK(h->run(frame(PacketBuilder().header(1, 0x0000, 1).question("a.b.", 255).bytes(), good)).action == XDP_PASS);
  CHECK(h->run(frame(PacketBuilder().header(1, 0x0000, 1).question("x12.test.", 1).bytes(), good)).action == XDP_TX);
  CHECK(h->run(frame(PacketBuilder().header(1, 0x0000, 1).question("x12a.test.", 1).bytes(), good)).action == XDP_PASS);
  CHECK(h->maps().rule_hits() == std::vector<uint64_t>{1, 1, 1, 1});
}

TEST_CASE("a dynamic block in the kernel's maps decides before the rules, until it expires") {
  auto policy = compile(
      "listen 127.0.0.1:5353;\npool main { server 192.0.2.1; }\n"
      "rule nx: qname suffix \"gone.example.\" => rcode NXDOMAIN;\n"
      "rule e: true => pool main;\n");
  const ir::Program& p = policy.optimized.program;
  std::string error;
  auto h = KernelHarness::load(p, general_prefix(p), 1, error);
  INFO(error);
  REQUIRE(h);
  const NetAddress blocked = *NetAddress::parse("203.0.113.7"), other = *NetAddress::parse("203.0.113.8");
  const NetAddress us = *NetAddress::parse("127.0.0.1");
  auto run = [&](const NetAddress& from, const char* name) {
    return h->run(udp_frame(PacketBuilder().header(9, 0x0100, 1).question(name, 1).bytes(), from, us, 5000, 53)).action;
  };
  const uint64_t far = uint64_t{1} << 62;  // CLOCK_MONOTONIC never gets there
  REQUIRE(h->maps().block(blocked, 32, kernel::DNSPC_K_DROP, 0, far, error));
  CHECK(run(blocked, "www.gone.example.") == XDP_DROP);  // the block, not the rule
  CHECK(run(blocked, "www.example.") == XDP_DROP);
  CHECK(run(other, "www.gone.example.") == XDP_TX);      // the rule
  CHECK(run(other, "www.example.") == XDP_PASS);
  CHECK(h->maps().counter(kernel::DNSPC_K_DYNBLOCKED) == 2);
  CHECK(h->maps().rule_hits() == std::vector<uint64_t>{1});
  // A refusing block for a whole /24 answers REFUSED; an expired one is ignored.
  REQUIRE(h->maps().block(other, 24, kernel::DNSPC_K_REFUSE, 0, far, error));
  CHECK(run(other, "www.example.") == XDP_TX);
  h->maps().unblock(other, 24);
  REQUIRE(h->maps().block(other, 32, kernel::DNSPC_K_DROP, 0, 1, error));  // expired long ago
  CHECK(run(other, "www.example.") == XDP_PASS);
}

}  // namespace
}  // namespace dnspc::testing
