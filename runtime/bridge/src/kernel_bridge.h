// The kernel fast path of a compiled policy (private to the bridge).
#pragma once

#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::runtime_bridge {

// Fills image.kernel (or kernel_problem) when the policy has an `xdp` statement.
void make_kernel_program(const pipeline::CompiledPolicy& policy, runtime::PolicyImage& image);

}  // namespace dnspc::runtime_bridge
