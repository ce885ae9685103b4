// The seal of the kernel fast path's hand-over (docs/xdp.md, "The
// hand-over"): the XDP program appends these bytes to a query it evaluated
// without a decision, next to the Z bit it sets, and user space trusts the
// bit only with them. The Z bit alone is a client's to set, and a query can
// reach the listener on the program's interface without passing the
// program: sent from this host to the interface's address (looped back, yet
// reported as arriving there), or over IPv6 with extension headers, which
// the program does not walk.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dnspc/kernel_abi.h"

namespace dnspc::kernel {

constexpr size_t kSealSize = DNSPC_K_SEAL_SIZE;
using Seal = std::array<uint8_t, kSealSize>;

// Random bytes drawn once per process (getrandom), the same for every
// program it loads, so a query one program sealed is still recognised (and
// its seal removed) after a reload replaced it.
const Seal& process_seal();

}  // namespace dnspc::kernel
