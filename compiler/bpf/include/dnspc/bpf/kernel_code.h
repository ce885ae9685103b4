// The kernel fast path's code generator (docs/xdp.md, "Code generation"):
// the decision program's kernel prefix compiled through LLVM's BPF target,
// linked with the BPF library built into dnspc, into one XDP program. No
// LLVM type crosses this header.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dnspc/ir/program.h"
#include "dnspc/kernel/prefix.h"
#include "dnspc/kernel_tables.h"

namespace dnspc::bpf {

// The maps' contents for the prefix; `seed` keys the name hash.
kernel::KernelTables build_tables(const ir::Program& program, const kernel::KernelPrefix& prefix,
                                  uint64_t seed);

// A map's file descriptor per dnspc_k_map, baked into the code.
using MapFds = std::array<int, kernel::DNSPC_K_MAP_COUNT>;

// The BTF type id of KernelCode::subprograms[0]; subprogram i is this + i.
constexpr uint32_t kFirstFunctionType = 4;

struct KernelCode {
  std::vector<uint64_t> instructions;  // struct bpf_insn, ready for BPF_PROG_LOAD
  // The subprograms' first instructions (0: the program; then bpf_loop's
  // callbacks). The kernel wants BTF for each (func_info): `btf` is a
  // minimal BTF blob whose type id 4 + i is subprogram i.
  std::vector<uint32_t> subprograms;
  std::vector<uint8_t> btf;
  size_t ir_instructions = 0;          // after optimisation
  double seconds = 0;                  // code generation, from the program to instructions
};

// Generates the XDP program. Returns false with `error` set on an LLVM
// failure or when the object would need relocations the loader does not do.
bool generate(const ir::Program& program, const kernel::KernelPrefix& prefix,
              const kernel::KernelTables& tables, const MapFds& fds, KernelCode& out,
              std::string& error);

// The linked module as LLVM IR text, after optimisation (for `dnspc explain --emit=bpf-ir`
// and the tests).
std::string emit_llvm(const ir::Program& program, const kernel::KernelPrefix& prefix,
                      const kernel::KernelTables& tables, const MapFds& fds, std::string& error);

}  // namespace dnspc::bpf
