// Random policies and the queries that exercise them, for differential
// tests: the names, prefixes and strings in the queries come from the policy
// itself, so every kind of rule gets hit.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/query_view.h"

namespace dnspc::testing {

struct RandomQuery {
  std::vector<uint8_t> packet;
  NetAddress source, destination;
  Transport transport = Transport::kUdp;
  uint64_t now_ns = 0;
  std::string describe;  // for failure messages
};

// `policy` (from RandomPolicy or WidePolicy) with about a quarter of its
// numbered rules' actions replaced by `lua act`, so some rules can be
// resumed past (a Lua action that fell back); the catch-all stays as it is.
std::string with_lua_actions(const std::string& policy, uint64_t seed);

// `policy` with the action of each numbered rule ("rule rN: ... => ACTION;")
// replaced by what `pick` returns, or kept when it returns empty.
std::string with_actions(const std::string& policy, const std::function<std::string()>& pick);

// An address inside one of `netmasks` (usually) or outside them all, with
// the host part varied a little so prefixes match at several lengths.
std::string address_near(const std::vector<std::string>& netmasks, bool v6, std::mt19937_64& rng);

class RandomPolicy {
 public:
  explicit RandomPolicy(uint64_t seed);

  // A policy text of up to `max_rules` rules ending with the catch-all.
  std::string policy(unsigned max_rules);
  // A query built from the vocabulary of the last policy; time moves on.
  RandomQuery query();

 private:
  std::string name();
  std::string qtype();
  std::string netmask(bool v6);
  std::string address(bool v6);
  std::string atom(bool allow_stateful);
  std::string expr(int depth, bool allow_stateful);
  std::string action();

  std::mt19937_64 rng_;
  std::vector<std::string> names_;
  std::vector<std::string> v4_, v6_;  // netmasks used
  std::vector<std::string> regex_texts_;  // strings some regex accepts
  std::vector<std::string> pools_;
  uint64_t now_ns_ = 1'000'000'000;
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool coin(int percent) { return pick(100) < percent; }
};

}  // namespace dnspc::testing
