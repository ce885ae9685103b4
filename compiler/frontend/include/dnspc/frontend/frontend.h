// The compiler's front door: a policy file in, a checked model (or
// diagnostics) out. `check`, `test`, `explain` and `run` all start here, so
// they accept and reject exactly the same policies.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/sema/model.h"

namespace dnspc::frontend {

enum class LoadStatus {
  kOk,          // the model is usable (warnings allowed)
  kErrors,      // diagnostics hold errors
  kUnreadable,  // the file could not be read (I/O), reported in `io_error`
  kCancelled,   // LoadOptions::cancel was set before the load ended
};

// Wall time of each front-end phase, for `check --stats` and the benchmarks.
struct PhaseTimes {
  double read_s = 0, parse_s = 0, sema_s = 0;
};

struct LoadResult {
  LoadStatus status = LoadStatus::kErrors;
  PhaseTimes times;
  std::optional<sema::Model> model;
  // The syntax tree (and with LoadOptions::keep_parse_state the parser's
  // tokens and parse trees), kept with the result: at 100k rules freeing
  // them costs a tenth of a second or more, which a command about to exit
  // need not pay.
  std::shared_ptr<const void> syntax_tree;
  std::string io_error;
};

struct LoadOptions {
  bool check_lua = true;
  // Keep the parser's tokens and parse trees in `syntax_tree` instead of
  // freeing them after parsing: for `check`, which exits without freeing;
  // a long-lived process holding the result would only carry them along.
  bool keep_parse_state = false;
  // Called first on each worker thread the parse and the analysis start:
  // `check` uses it to set up those threads' heaps (cli/check_heap.h).
  void (*thread_start)() = nullptr;
  // Checked between phases and between the files a policy names: a process
  // that stops while a reload compiles sets it and waits only for the
  // phase at hand (every phase is bounded: file sizes, nesting).
  const std::atomic<bool>* cancel = nullptr;
};

// Reads, parses and analyses the policy at `path`; every diagnostic goes to
// `diags` (whose SourceManager keeps the texts for rendering).
LoadResult load_policy(const std::string& path, diag::Diagnostics& diags, const LoadOptions& options = {});

// The same for a policy already in memory (tests, reload over the control socket).
LoadResult load_policy_text(const std::string& path, std::string text, diag::Diagnostics& diags,
                            const LoadOptions& options = {});

}  // namespace dnspc::frontend
