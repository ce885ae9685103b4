// A compiled policy's kernel program loaded for BPF_PROG_TEST_RUN: its maps
// created and filled from the tables, the program verified by the kernel.
// Needs root (CAP_BPF and CAP_NET_ADMIN); main() skips the suite without.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/bpf/kernel_code.h"
#include "dnspc/net_address.h"
#include "dnspc/runtime/kernel_maps.h"
#include "dnspc/runtime/xdp.h"

namespace dnspc::testing {

class KernelHarness {
 public:
  // Null with `error` (the verifier's reason included) when it does not load.
  static std::unique_ptr<KernelHarness> load(const ir::Program& program, const kernel::KernelPrefix& prefix,
                                             uint64_t seed, std::string& error);

  struct Result {
    uint32_t action = 0;  // XDP_*
    std::vector<uint8_t> frame;
  };
  Result run(const std::vector<uint8_t>& frame);

  xdp::KernelMaps& maps() { return *maps_; }
  const xdp::Program& program() const { return *program_; }
  const bpf::KernelCode& code() const { return code_; }
  const kernel::KernelTables& tables() const { return tables_; }

 private:
  KernelHarness() = default;
  std::unique_ptr<xdp::KernelMaps> maps_;
  std::unique_ptr<xdp::Program> program_;
  bpf::KernelCode code_;
  kernel::KernelTables tables_;
};

// An Ethernet + IPv4/IPv6 + UDP frame around a DNS message.
std::vector<uint8_t> udp_frame(const std::vector<uint8_t>& dns, const NetAddress& source,
                               const NetAddress& destination, uint16_t source_port, uint16_t destination_port);

}  // namespace dnspc::testing
