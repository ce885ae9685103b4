// Whether this process can use the fast path at all, asked of the kernel:
// load the smallest XDP program there is.
#include <fmt/format.h>
#include <linux/bpf.h>

#include <cstring>
#include <fstream>
#include <string>

#include "dnspc/runtime/xdp.h"

namespace dnspc::xdp {

namespace {

// r0 = XDP_PASS; exit
uint64_t instruction(uint8_t code, uint8_t dst, int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.imm = imm;
  uint64_t word;
  std::memcpy(&word, &insn, sizeof word);
  return word;
}

// CapEff's CAP_NET_ADMIN bit, from /proc (no libcap for one bit).
bool has_net_admin() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("CapEff:")) continue;
    unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
    constexpr int kCapNetAdmin = 12;
    return (caps >> kCapNetAdmin) & 1;
  }
  return true;  // no /proc: let the attach itself say
}

}  // namespace

std::string support_problem() {
  const uint64_t pass[] = {
      instruction(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, XDP_PASS),
      instruction(BPF_JMP | BPF_EXIT, 0, 0),
  };
  std::string error;
  auto program = Program::load(pass, "dnspc_probe", error);
  if (!program) return "this process cannot load XDP programs: " + error;
  if (!has_net_admin()) {
    return "this process lacks CAP_NET_ADMIN, which attaching an XDP program needs: run dnspc as "
           "root or give it CAP_NET_ADMIN and CAP_BPF";
  }
  return "";
}

}  // namespace dnspc::xdp
