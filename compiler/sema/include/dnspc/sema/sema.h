// Semantic analysis: resolves names, types and ranges, loads set files and
// checks Lua hooks, then runs the static checks (shadowed rules, unused
// pools and sets, ...). Everything is reported to `diags`; the model is
// meaningful only when diags has no errors.
#pragma once

#include <atomic>
#include <string>

#include "dnspc/ast/ast.h"
#include "dnspc/diag/diagnostics.h"
#include "dnspc/sema/model.h"

namespace dnspc::sema {

struct Config {
  // Where relative paths in the policy (set files, Lua files) start: the
  // policy file's own directory.
  std::string base_dir = ".";
  // Check Lua hooks by loading the Lua files in a sandbox.
  bool check_lua = true;
  // Called first on each thread analysis starts (see LoadOptions).
  void (*thread_start)() = nullptr;
  // Set when the caller no longer wants the result (a stopping process):
  // analysis skips the files it has not read yet (see LoadOptions).
  const std::atomic<bool>* cancel = nullptr;
};

Model analyze(const ast::Policy& policy, diag::Diagnostics& diags, const Config& config);

// The checks that say "this is legal but almost certainly not what you
// meant": shadowed and unreachable rules, unused pools and sets, pools
// without servers. Called by analyze(); exposed for unit tests.
void run_static_checks(const Model& model, diag::Diagnostics& diags);

}  // namespace dnspc::sema
