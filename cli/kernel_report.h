// What the kernel fast path would run (docs/xdp.md), in words: a note from
// `check` on a policy with an `xdp` statement, a section of `explain`.
#pragma once

#include <string>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/kernel/prefix.h"
#include "dnspc/pipeline/pipeline.h"

namespace dnspc::cli {

// "rules 1-2 of 4 run in the kernel (1 folded into name lookups, 1 as
// general code); rule 3 'b' at f.dp:7:6 stays in user space: <reason>".
std::string kernel_prefix_sentence(const pipeline::CompiledPolicy& policy,
                                   const kernel::KernelPrefix& prefix,
                                   const diag::SourceManager& sources);

// With an `xdp` statement: the note `xdp-prefix` at it, "xdp eth0 (native):
// <sentence>", and a note at the construct that ends the prefix.
void note_kernel_prefix(const pipeline::CompiledPolicy& policy, diag::Diagnostics& diags);

// The `explain` section, always: the sentence, the budgets used, and where
// user space takes over.
std::string kernel_section(const pipeline::CompiledPolicy& policy,
                           const diag::SourceManager& sources);

}  // namespace dnspc::cli
