// A wider random policy generator than tests/support/random_policy.h, for
// the native-code differential test: every test kind of the language (qclass,
// opcode, every header bit, EDNS version, payload and options, qname length,
// every compare operator, tagged, named sets of each kind, probability 1,
// QPS bounds with burst and per-source prefixes), and queries that reach the
// corners: names whose labels hold dots (so regex suffix prefilters cannot be
// trusted), the root name, qtypes past 255, more EDNS options than the view
// records, IPv4 and IPv6 sources and destinations.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/query_view.h"

namespace dnspc::testing {

struct WideQuery {
  std::vector<uint8_t> packet;
  NetAddress source, destination;
  Transport transport = Transport::kUdp;
  uint64_t now_ns = 0;
  std::string describe;
};

class WidePolicy {
 public:
  explicit WidePolicy(uint64_t seed);

  // A policy text of up to `max_rules` rules ending with the catch-all.
  std::string policy(unsigned max_rules);
  // A query built from the vocabulary of the last policy; time moves on.
  WideQuery query();
  // A condition over the query in the last policy's vocabulary, without QPS
  // bounds (response rules take every other query test); its names join
  // the vocabulary queries are built from.
  std::string condition(int depth) { return expr(depth, true); }

 private:
  std::string name();
  std::string netmask(bool v6);
  std::string address(bool v6, const std::vector<std::string>& pool);
  std::string op();
  std::string atom(bool allow_stateful);
  std::string expr(int depth, bool allow_stateful);
  std::string action();

  std::mt19937_64 rng_;
  std::vector<std::string> names_;
  std::vector<std::string> v4_, v6_, dst_;
  std::vector<std::string> regex_texts_;
  uint64_t now_ns_ = 1'000'000'000;
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool coin(int percent) { return pick(100) < percent; }
};

}  // namespace dnspc::testing
