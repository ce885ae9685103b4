// The policy's dynamic blocks as the engine's plain specs (dynblock_spec.h).
// Kept beside the case runner, its first user; the runtime bridge needs the
// same conversion (the engine itself never sees the checked model).
#pragma once

#include <vector>

#include "dnspc/dynblock_spec.h"
#include "dnspc/sema/model.h"

namespace dnspc::cases {

// In policy order. A no_recurse block forwards to the policy's default pool.
std::vector<BlockSpec> block_specs(const sema::Model& model);

}  // namespace dnspc::cases
