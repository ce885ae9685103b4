// Random policies with response rules, for the response differential test:
// the query side of wide_policy.h, then response rules mixing response facts
// (rcode, answers, latency, response.size, every compare operator) with the
// query tests, tags set and read across rules, every response action, and
// many rules without a terminal action (so evaluation resumes often). Each
// query comes with a backend answer's facts near the policy's thresholds.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "dnspc/decision_state.h"
#include "wide_policy.h"

namespace dnspc::testing {

struct ResponseCase {
  WideQuery query;
  ResponseFacts facts;      // the backend answer's
  uint64_t query_tags = 0;  // the tags the query rules set
};

class ResponsePolicy {
 public:
  explicit ResponsePolicy(uint64_t seed);

  // Query rules (up to `max_rules`), then 1 to `max_response_rules` response rules.
  std::string policy(unsigned max_rules, unsigned max_response_rules);
  ResponseCase next();

 private:
  std::string fact();
  std::string condition(int depth);
  std::string action();

  WidePolicy wide_;
  std::mt19937_64 rng_;
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool coin(int percent) { return pick(100) < percent; }
};

}  // namespace dnspc::testing
