#include "response_policy.h"

#include <fmt/core.h>

namespace dnspc::testing {

namespace {

const char* const kOps[] = {"==", "!=", "<", "<=", ">", ">="};
const char* const kRcodes[] = {"NOERROR", "SERVFAIL", "NXDOMAIN", "REFUSED", "RCODE15"};
// Values near the thresholds the policy uses, and past them.
const uint16_t kAnswerRcodes[] = {0, 0, 2, 3, 5, 15, 16, 18};  // 16, 18: extended rcodes
const uint32_t kLatencyMs[] = {0, 1, 10, 100, 500, 2000};
const uint64_t kLatencyUs[] = {0,       999,     1'000,   1'001,   9'999,     10'000,       100'999,
                               499'999, 500'000, 500'999, 501'000, 2'000'000, 3'000'000'000};
const uint32_t kSizes[] = {12, 100, 512, 1232, 4096, 65535};

}  // namespace

ResponsePolicy::ResponsePolicy(uint64_t seed) : wide_(seed), rng_(seed ^ 0x5eed) {}

std::string ResponsePolicy::fact() {
  const char* op = kOps[pick(6)];
  switch (pick(4)) {
    case 0:
      return fmt::format("rcode {} {}", coin(50) ? "==" : "!=", kRcodes[pick(5)]);
    case 1:
      return fmt::format("answers {} {}", op, pick(4));
    case 2:
      return fmt::format("latency {} {}ms", op, kLatencyMs[pick(6)]);
    default:
      return fmt::format("response.size {} {}", op, kSizes[pick(6)]);
  }
}

std::string ResponsePolicy::condition(int depth) {
  if (depth == 0 || coin(30)) {
    if (coin(55)) return fact();
    if (coin(20)) return coin(50) ? "tagged \"t\"" : "tagged \"u\"";
    return wide_.condition(1);
  }
  switch (pick(3)) {
    case 0:
      return fmt::format("({} and {})", condition(depth - 1), condition(depth - 1));
    case 1:
      return fmt::format("({} or {})", condition(depth - 1), condition(depth - 1));
    default:
      return fmt::format("not ({})", condition(depth - 1));
  }
}

std::string ResponsePolicy::action() {
  switch (pick(9)) {
    case 0:
      return "tag \"u\"";
    case 1:
      return "log";
    case 2:
      return "tag \"t\" tag \"u\" log";
    case 3:
      return "tag \"t\"";
    case 4:
      return "drop";
    case 5:
      return "log truncate";
    case 6:
      return "truncate";
    case 7:
      return "tag \"u\" rcode SERVFAIL";
    default:
      return "rcode NXDOMAIN";
  }
}

std::string ResponsePolicy::policy(unsigned max_rules, unsigned max_response_rules) {
  std::string out = wide_.policy(max_rules);
  const unsigned rules = 1 + static_cast<unsigned>(pick(static_cast<int>(max_response_rules)));
  for (unsigned r = 0; r < rules; ++r) {
    out += fmt::format("response rule s{}: {} => {};\n", r, condition(3), action());
  }
  return out;
}

ResponseCase ResponsePolicy::next() {
  ResponseCase c;
  c.query = wide_.query();
  c.facts.rcode = kAnswerRcodes[pick(8)];
  c.facts.answers = static_cast<uint16_t>(coin(5) ? 65535 : pick(5));
  c.facts.latency_us = kLatencyUs[pick(13)];
  c.facts.size = kSizes[pick(6)] + static_cast<uint32_t>(pick(3)) - 1u;
  c.query_tags = rng_() & 7;
  c.query.describe +=
      fmt::format(" | answer rcode {} answers {} latency {}us size {} tags {}", c.facts.rcode,
                  c.facts.answers, c.facts.latency_us, c.facts.size, c.query_tags);
  return c;
}

}  // namespace dnspc::testing
