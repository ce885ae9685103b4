// A compiled policy's kernel maps (docs/xdp.md, "Runtime"): created and
// filled from the compiler's tables before the code that refers to them is
// generated, then read for counters and written for dynamic blocks, the
// listeners and (in tests) the clock and the random state.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/kernel_tables.h"
#include "dnspc/net_address.h"
#include "dnspc/runtime/xdp.h"

namespace dnspc::xdp {

class KernelMaps {
 public:
  static std::unique_ptr<KernelMaps> create(const kernel::KernelTables& tables, std::string& error);

  // Each map's descriptor, by dnspc_k_map: what the generated code refers to.
  std::array<int, kernel::DNSPC_K_MAP_COUNT> fds() const;

  // A UDP listener the program decides for (address with its port; the
  // wildcard address stands for every address on the interface).
  bool add_listener(const NetAddress& listener, std::string& error);

  // Dynamic blocks: `until_ns` on CLOCK_MONOTONIC (bpf_ktime_get_ns).
  bool block(const NetAddress& source, uint8_t prefix_length, kernel::dnspc_k_action_kind kind, uint8_t rcode,
             uint64_t until_ns, std::string& error);
  void unblock(const NetAddress& source, uint8_t prefix_length);

  uint64_t counter(kernel::dnspc_k_counter which) const;
  std::vector<uint64_t> counters() const;   // DNSPC_K_COUNTER_COUNT sums
  std::vector<uint64_t> rule_hits() const;  // per prefix rule

  // Tests: the clock the rate bounds read (0: the real one), every CPU's
  // xorshift state.
  bool set_clock(uint64_t now_ns, std::string& error);
  bool set_random(uint64_t state, std::string& error);

 private:
  KernelMaps() = default;
  std::array<std::unique_ptr<Map>, kernel::DNSPC_K_MAP_COUNT> maps_;
  kernel::dnspc_k_config config_{};
  size_t rules_ = 0;
};

}  // namespace dnspc::xdp
