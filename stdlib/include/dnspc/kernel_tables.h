// What the kernel fast path's maps hold for one compiled policy, as plain
// data (docs/xdp.md): the compiler fills it from the kernel prefix, the
// runtime creates and fills the maps from it. Layouts are kernel_abi.h's.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "dnspc/kernel_abi.h"

namespace dnspc::kernel {

struct KernelLimiter {
  uint64_t interval_ns = 0, tolerance_ns = 0;
  bool per_source = false;
  uint8_t v4_prefix = 32, v6_prefix = 64;
};

struct KernelTables {
  dnspc_k_config config{};
  std::vector<std::pair<dnspc_k_name_key, dnspc_k_lookup>> names;
  std::vector<std::pair<dnspc_k_lpm4, dnspc_k_lookup>> source4, destination4;
  std::vector<std::pair<dnspc_k_lpm6, dnspc_k_lookup>> source6, destination6;
  std::vector<dnspc_k_action> actions;  // per prefix rule
  std::vector<uint32_t> dfa;            // every general regex's transitions
  std::vector<dnspc_k_regex> regexes;
  std::vector<dnspc_k_regex_rule> regex_rules;  // folded regex rules' chains
  std::vector<int32_t> regex_of_test;   // per test id: its regex, or -1
  std::vector<KernelLimiter> limiters;  // per program limiter (the rates map's index)
  uint32_t source_rate_entries = 0;     // the per-source LRU's size (0: no per-source bound)
  // The policy's ACL: a source outside it goes up unevaluated (user space
  // drops or refuses it before any rule).
  std::vector<dnspc_k_lpm4> acl4;
  std::vector<dnspc_k_lpm6> acl6;
};

// The keyed name hash of a lower-case wire name (root byte included), as the
// kernel computes it for the suffix starting at a label.
inline uint64_t name_hash(uint64_t seed, const uint8_t* wire, size_t length) {
  uint64_t h = seed;
  for (size_t k = length; k-- > 0;) h = dnspc_k_hash_byte(h, wire[k]);
  return h;
}

}  // namespace dnspc::kernel
