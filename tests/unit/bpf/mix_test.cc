// The standard rule mixes (tests/bench/rules.py: 3/8 suffixes, 3/8
// netmasks, 1/8 regexes, 1/8 qtype-and-suffix) at 800 and 100,000 rules:
// the kernel program for each must pass the verifier, and decide a matching
// query of each kind the way the reference interpreter does.
#include <fmt/core.h>
#include <linux/bpf.h>

#include <catch2/catch.hpp>
#include <random>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/wire.h"
#include "dnspc/kernel/prefix.h"
#include "dnspc/pipeline/pipeline.h"
#include "kernel_harness.h"
#include "packet_builder.h"

namespace dnspc::testing {
namespace {

std::string label(std::mt19937_64& rng, int lo = 3, int hi = 10) {
  std::string s;
  int n = lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
  for (int i = 0; i < n; ++i) s += "abcdefghijklmnopqrstuvwxyz0123456789"[rng() % 36];
  return s;
}

// The mix, every rule dropping; a catch-all forwards.
std::string mix(unsigned n) {
  std::mt19937_64 rng(20261204);
  const unsigned suffixes = 3 * n / 8, netmasks = 3 * n / 8, regexes = n / 8;
  const unsigned qtype_suffixes = n - suffixes - netmasks - regexes;
  std::string out = "listen 127.0.0.1:5353;\npool main { server 192.0.2.1; }\nxdp \"lo\" mode generic;\n";
  unsigned r = 0;
  for (unsigned i = 0; i < netmasks; ++i) {
    if (i % 2) {
      out += fmt::format("rule r{}: src in 198.{}.{}.{}/{} => drop;\n", r++, 18 + rng() % 2, rng() % 256, rng() % 256,
                         16 + rng() % 17);
    } else {
      out += fmt::format("rule r{}: src in 2001:db8:{:x}:{:x}::/{} => drop;\n", r++, rng() % 65536, rng() % 65536,
                         std::array{32, 40, 48, 56, 64}[rng() % 5]);
    }
  }
  for (unsigned i = 0; i < suffixes; ++i) {
    std::string extra;
    for (uint64_t k = rng() % 3; k > 0; --k) extra += label(rng) + ".";
    out += fmt::format("rule r{}: qname suffix \"{}nomatch-{}.invalid.\" => drop;\n", r++, extra, i);
  }
  for (unsigned i = 0; i < regexes; ++i) {
    out += fmt::format("rule r{}: qname ~ /^[a-z0-9]{{{},}}\\.nomatch-re-{}\\.invalid\\.$/ => drop;\n", r++,
                       12 + rng() % 20, i);
  }
  static const char* types[] = {"TXT", "MX", "SRV", "CAA", "NS"};
  for (unsigned i = 0; i < qtype_suffixes; ++i) {
    out += fmt::format("rule r{}: qtype == {} and qname suffix \"{}.nomatch-qt-{}.invalid.\" => drop;\n", r++,
                       types[rng() % 5], label(rng), i);
  }
  out += "rule default: true => pool main;\n";
  return out;
}

void check_mix(unsigned n) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("mix.dp", mix(n), diags, options);
  INFO(diag::render_text(diags));
  REQUIRE(loaded.model);
  auto compiled = pipeline::compile_model(std::move(*loaded.model));
  const ir::Program& p = compiled.optimized.program;
  const kernel::KernelPrefix prefix = kernel::find_kernel_prefix(p);
  std::string error;
  auto h = KernelHarness::load(p, prefix, 99, error);
  INFO(error);
  REQUIRE(h);
  WARN(fmt::format("{} rules: {} in the kernel ({}), {} BPF instructions, verifier processed {}; {:.2f} s to generate; {} DFA transitions",
                   n, prefix.rules, prefix.end_reason.empty() ? "all" : prefix.end_reason, h->code().instructions.size(),
                   h->program().verifier_stats().instructions_processed, h->code().seconds, h->tables().dfa.size()));
  CHECK(prefix.rules == n);

  // Queries near the mix's names and netmasks: the kernel decides each as
  // the reference interpreter does over the prefix.
  ir::Program reference = compiled.reference;
  reference.rules.resize(prefix.rules);
  ir::ProgramState state(reference);
  std::mt19937_64 rng(7);
  size_t dropped = 0;
  for (int k = 0; k < 2000; ++k) {
    const unsigned i = static_cast<unsigned>(rng() % (n / 8));
    std::string name;
    uint16_t qtype = 1;
    switch (rng() % 4) {
      case 0: name = fmt::format("www.nomatch-{}.invalid.", i); break;
      case 1: name = fmt::format("{}.nomatch-re-{}.invalid.", label(rng, 8, 40), i); break;
      case 2:
        name = fmt::format("{}.nomatch-qt-{}.invalid.", label(rng), i);
        qtype = std::array<uint16_t, 3>{16, 15, 1}[rng() % 3];
        break;
      default: name = fmt::format("{}.example.", label(rng)); break;
    }
    const NetAddress source = rng() % 2 ? *NetAddress::parse(fmt::format("198.{}.{}.{}", 18 + rng() % 2, rng() % 256, rng() % 256))
                                        : *NetAddress::parse(fmt::format("2001:db8:{:x}:{:x}::1", rng() % 65536, rng() % 65536));
    const NetAddress us = source.family == AddressFamily::kIPv4 ? *NetAddress::parse("0.0.0.0") : *NetAddress::parse("::");
    std::vector<uint8_t> dns = PacketBuilder().header(static_cast<uint16_t>(k), 0x0100, 1).question(name, qtype).bytes();
    KernelHarness::Result got = h->run(udp_frame(dns, source, us, 5353, 53));
    QueryView view;
    REQUIRE(parse_query(dns.data(), dns.size(), Transport::kUdp, view) == ParseError::kOk);
    view.source = source;
    view.destination = us;
    const Verdict expected = interp::interpret(reference, view, state.for_query(1));
    INFO(name << " from " << source.to_string(false) << ": rule " << expected.rule);
    CHECK(got.action == (expected.rule < prefix.rules ? XDP_DROP : XDP_PASS));
    dropped += got.action == XDP_DROP;
  }
  CHECK(dropped > 200);
}

TEST_CASE("the standard 800-rule mix's kernel program passes the verifier") { check_mix(800); }
TEST_CASE("the 100k-rule mix's kernel program passes the verifier") { check_mix(100'000); }

}  // namespace
}  // namespace dnspc::testing
