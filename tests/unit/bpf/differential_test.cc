// The kernel program must decide as the reference interpreter does over the
// kernel's prefix, and answer with the bytes user space would send: random
// policies (tests/support/random_policy.h) whose actions are mostly ones the
// kernel runs, so prefixes end at varied rules; queries from each policy's
// own vocabulary, some malformed or outside what the kernel parses; virtual
// time for the rate bounds and one random state for `probability`. Each
// frame runs through BPF_PROG_TEST_RUN and must come back:
//   - dropped, when the reference says a prefix rule drops it;
//   - turned around (XDP_TX) with the answer build_rcode_answer or
//     build_truncated_answer makes, and right checksums, when it answers;
//   - passed with the DNS header's Z bit set and the process's seal
//     appended (IP and UDP lengths and checksums still right), when no
//     prefix rule holds;
//   - passed with Z clear, when the kernel does not parse it.
// DNSPC_KERNEL_DIFF_POLICIES=N runs N policies (the long run).
#include <fmt/core.h>
#include <linux/bpf.h>
#include <sched.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <random>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/kernel/prefix.h"
#include "dnspc/kernel_seal.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"
#include "kernel_harness.h"
#include "random_policy.h"

namespace dnspc::testing {
namespace {

unsigned policy_count() {
  if (const char* n = std::getenv("DNSPC_KERNEL_DIFF_POLICIES")) return static_cast<unsigned>(std::atoi(n));
  return 100;
}
constexpr int kQueriesPerPolicy = 1000;

// Numbered rules get an action the kernel runs nine times in ten.
std::string kernel_actions(const std::string& policy, std::mt19937_64& rng) {
  static const char* actions[] = {"drop", "refuse", "truncate", "rcode NXDOMAIN", "rcode SERVFAIL"};
  return with_actions(policy, [&] { return rng() % 10 != 0 ? std::string(actions[rng() % 5]) : std::string(); });
}

// What the kernel parses (docs/xdp.md, "What the kernel reads"): the rest
// goes up unevaluated.
bool kernel_evaluates(const QueryView& v) {
  return v.ancount == 0 && v.nscount == 0 && v.arcount <= 1 && (v.arcount == 0 || v.edns_present) &&
         v.trailing == 0 && !v.dot_in_label && v.edns_version == 0 && !v.ecs_present &&
         v.edns_option_count <= 16 && v.size <= 4096 - kernel::kSealSize;
}

uint16_t ones_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += p[i] << 8 | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The UDP checksum of an IPv4 or IPv6 frame holds (0 is "none" for IPv4).
bool udp_checksum_holds(const std::vector<uint8_t>& f, bool v4) {
  const size_t l4 = v4 ? 34 : 54;
  const uint8_t* udp = f.data() + l4;
  const size_t len = static_cast<size_t>(udp[4] << 8 | udp[5]);
  if (l4 + len > f.size()) return false;
  if (v4 && udp[6] == 0 && udp[7] == 0) return true;
  uint32_t pseudo = 17 + static_cast<uint32_t>(len);
  if (v4) {
    pseudo += ones_sum(f.data() + 26, 8);
  } else {
    pseudo += ones_sum(f.data() + 22, 32);
  }
  return ones_sum(udp, len, pseudo) == 0xffff;
}

struct Totals {
  size_t policies = 0, prefix_rules = 0, queries = 0, dropped = 0, answered = 0, passed = 0, unparsed = 0;
};

void check_policy(RandomPolicy& generator, std::mt19937_64& rng, unsigned index, Totals& totals) {
  const std::string text = kernel_actions(generator.policy(12), rng);
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("random.dp", text, diags, options);
  INFO("policy " << index << "\n" << text << "\n" << diag::render_text(diags));
  REQUIRE(loaded.model);
  auto compiled = pipeline::compile_model(std::move(*loaded.model));
  const ir::Program& optimized = compiled.optimized.program;
  const kernel::KernelPrefix prefix = kernel::find_kernel_prefix(optimized);
  INFO("kernel prefix: " << prefix.rules << " rules; " << prefix.end_reason);
  std::string error;
  auto kernel = KernelHarness::load(optimized, prefix, rng(), error);
  INFO(error);
  REQUIRE(kernel);
  ++totals.policies;
  totals.prefix_rules += prefix.rules;

  // The reference: the program as lowered, cut to the prefix.
  ir::Program reference = compiled.reference;
  reference.rules.resize(prefix.rules);
  const uint64_t random_seed = rng() | 1;
  ir::ProgramState state(reference, random_seed);
  REQUIRE(kernel->maps().set_random(random_seed, error));

  for (int k = 0; k < kQueriesPerPolicy; ++k) {
    RandomQuery q = generator.query();
    if (k % 50 == 7 && q.packet.size() > 13) q.packet.resize(q.packet.size() - 1 - rng() % 8);  // cut short
    if (k % 50 == 9 && q.packet.size() > 12) q.packet[4 + rng() % 8] ^= static_cast<uint8_t>(1 + rng() % 255);
    INFO("query " << k << ": " << q.describe);
    const bool v4 = q.source.family == AddressFamily::kIPv4;
    if (q.destination.family != q.source.family) q.destination = *NetAddress::parse(v4 ? "192.0.2.53" : "2001:db8::53");
    NetAddress listener = q.destination;
    listener.port = 53;
    REQUIRE(kernel->maps().add_listener(listener, error));
    std::vector<uint8_t> frame = udp_frame(q.packet, q.source, q.destination, 40000, 53);
    REQUIRE(kernel->maps().set_clock(q.now_ns, error));
    KernelHarness::Result got = kernel->run(frame);
    ++totals.queries;

    QueryView view;
    const ParseError parsed = parse_query(q.packet.data(), q.packet.size(), Transport::kUdp, view);
    view.source = q.source;
    view.destination = q.destination;
    const size_t dns_at = v4 ? 42 : 62;
    if (parsed != ParseError::kOk || !kernel_evaluates(view)) {
      ++totals.unparsed;
      REQUIRE(got.action == XDP_PASS);
      if (got.frame.size() >= dns_at + 4) CHECK((got.frame[dns_at + 3] & 0x40) == 0);
      continue;
    }
    const Verdict expected = interp::interpret(reference, view, state.for_query(q.now_ns));
    if (expected.rule >= prefix.rules) {
      ++totals.passed;
      REQUIRE(got.action == XDP_PASS);
      CHECK((got.frame[dns_at + 3] & 0x40) != 0);
      CHECK(udp_checksum_holds(got.frame, v4));
      if (v4) CHECK(ones_sum(got.frame.data() + 14, 20) == 0xffff);
      // Nothing else changes: the frame is the query with the mark and the
      // seal, lengths and checksums to match.
      std::vector<uint8_t> sealed = q.packet;
      sealed[3] |= 0x40;
      const kernel::Seal& seal = kernel::process_seal();
      sealed.insert(sealed.end(), seal.begin(), seal.end());
      std::vector<uint8_t> want = udp_frame(sealed, q.source, q.destination, 40000, 53);
      const size_t check_at = dns_at - 2;  // 0xffff and 0 are the same sum: take the program's
      want[check_at] = got.frame[check_at];
      want[check_at + 1] = got.frame[check_at + 1];
      CHECK(got.frame == want);
      continue;
    }
    INFO("expected rule " << expected.rule << " " << action_kind_name(expected.action));
    if (expected.action == ActionKind::kDrop) {
      ++totals.dropped;
      REQUIRE(got.action == XDP_DROP);
      continue;
    }
    ++totals.answered;
    std::vector<uint8_t> answer(4096);
    size_t n = expected.action == ActionKind::kTruncate ? build_truncated_answer(view, answer.data(), answer.size())
               : build_rcode_answer(view,
                                    expected.action == ActionKind::kRefuse ? rcode::kRefused
                                                                           : static_cast<uint8_t>(expected.argument),
                                    answer.data(), answer.size());
    answer.resize(n);
    REQUIRE(got.action == XDP_TX);
    REQUIRE(got.frame.size() == dns_at + n);
    CHECK(std::vector<uint8_t>(got.frame.begin() + static_cast<long>(dns_at), got.frame.end()) == answer);
    CHECK(std::equal(got.frame.begin(), got.frame.begin() + 6, frame.begin() + 6));  // MACs swapped
    CHECK(udp_checksum_holds(got.frame, v4));
    if (v4) CHECK(ones_sum(got.frame.data() + 14, 20) == 0xffff);
  }
}

TEST_CASE("the kernel program decides and answers as user space over its prefix, on random policies") {
  // One CPU for every run: `probability` draws from a per-CPU random state,
  // which the reference's single state follows only if no run moves CPUs.
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
  std::mt19937_64 rng(0x51ed1);
  RandomPolicy generator(0xa11ce);
  Totals totals;
  const unsigned n = policy_count();
  for (unsigned i = 0; i < n; ++i) check_policy(generator, rng, i, totals);
  WARN(fmt::format("{} policies, {} prefix rules, {} queries: {} dropped, {} answered, {} passed, {} unparsed",
                   totals.policies, totals.prefix_rules, totals.queries, totals.dropped, totals.answered,
                   totals.passed, totals.unparsed));
  CHECK(totals.queries >= 100'000);
  CHECK(totals.dropped > 1000);
  CHECK(totals.answered > 1000);
  CHECK(totals.passed > 1000);
  CHECK(totals.unparsed > 1000);
}

}  // namespace
}  // namespace dnspc::testing
