// The generated functions the BPF library calls (private to dnspc_bpf).
#pragma once

#include "dnspc/bpf/kernel_code.h"

namespace llvm {
class Module;
}

namespace dnspc::bpf {

// ptr @dnspc_k_map(i32): each map id's file descriptor as a BPF_PSEUDO_MAP_FD load.
void build_map_function(llvm::Module& m, const MapFds& fds);

// i32 @dnspc_k_decide(ptr view): the prefix's first rule that holds.
void build_decide_function(llvm::Module& m, const ir::Program& program, const kernel::KernelPrefix& prefix,
                           const kernel::KernelTables& tables);

}  // namespace dnspc::bpf
