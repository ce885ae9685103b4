// The whole compiler pipeline short of machine code: load (parse + sema),
// lower to the decision program, optimise and index. `check` runs it so that
// nothing it accepts can fail to load; `test`, `explain` and `run` start from
// its result.
#pragma once

#include <optional>
#include <string>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/ir/program.h"
#include "dnspc/opt/index.h"
#include "dnspc/sema/model.h"

namespace dnspc::pipeline {

struct CompileTimes {
  frontend::PhaseTimes front;
  double lower_s = 0, optimize_s = 0;
};

struct CompiledPolicy {
  sema::Model model;
  ir::Program reference;       // as lowered: what the reference interpreter walks
  opt::OptimizedPolicy optimized;
  // The response rules, the same way (ir::lower_responses); no rules when
  // the policy has none.
  ir::Program response_reference;
  opt::OptimizedPolicy response_optimized;
  CompileTimes times;
};

struct CompileResult {
  frontend::LoadStatus status = frontend::LoadStatus::kErrors;
  std::shared_ptr<const void> syntax_tree;  // see frontend::LoadResult
  std::optional<CompiledPolicy> policy;
  std::string io_error;
  CompileTimes times;
};

CompileResult compile_file(const std::string& path, diag::Diagnostics& diags,
                           const frontend::LoadOptions& options = {});

// Lowers and optimises a checked model.
CompiledPolicy compile_model(sema::Model model);

}  // namespace dnspc::pipeline
