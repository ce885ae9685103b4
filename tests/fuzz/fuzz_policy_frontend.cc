// libFuzzer target: the policy front end as `dnspc check` runs it. Any bytes
// are a .dp source: the ANTLR parse and our syntax errors, the AST, sema
// (names, values, set files, regexes, Lua hooks) and, for an accepted
// policy, lowering and the optimiser (the pipeline short of LLVM); the
// diagnostics are rendered as text and JSON. Expected: diagnostics, never a
// crash or a hang (libFuzzer's -timeout); a rejected policy says why; the
// limits of docs/reliability.md ("Defaults and limits") hold in what an
// accepted policy carries.
// The policy's path is in samples/ (DNSPC_FUZZ_POLICY_DIR, set by
// run-fuzzer), so the set and Lua files the samples name are found.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/parse/parse.h"
#include "dnspc/pipeline/pipeline.h"
#include "fuzz_support.h"

using fuzz_support::check;

namespace {

std::string policy_path;

// Depth of and/or/not nodes over a condition; the parser's bound on
// parentheses and `not` (kMaxConditionNesting) bounds it, and every pass
// that recurses over conditions relies on that.
size_t depth(const dnspc::sema::Cond& c, size_t level) {
  check(level <= dnspc::parse::kMaxConditionNesting + 2);
  size_t most = level;
  for (const auto& child : c.children) most = std::max(most, depth(child, level + 1));
  return most;
}

// A diagnostic's place is inside the text it names (the renderers cut
// excerpts from it).
void in_bounds(const dnspc::diag::SourceManager& sources, dnspc::diag::SourceRange r) {
  if (!r.valid()) return;
  check(r.file < sources.file_count());
  check(r.begin <= r.end && r.end <= sources.text(r.file).size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("DNSPC_FUZZ_POLICY_DIR");
  policy_path = std::string(dir ? dir : ".") + "/fuzz.dp";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dnspc;
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadResult r = frontend::load_policy_text(
      policy_path, std::string(reinterpret_cast<const char*>(data), size), diags);
  check(r.status == frontend::LoadStatus::kOk || r.status == frontend::LoadStatus::kErrors);
  if (r.status == frontend::LoadStatus::kOk) {
    check(r.model.has_value() && !diags.has_errors());
    for (const sema::Rule& rule : r.model->rules) {
      check(rule.name.size() <= parse::kMaxIdentifierLength);
      depth(rule.condition, 0);
    }
    // What check does next: lower and optimise (no machine code).
    pipeline::CompiledPolicy compiled = pipeline::compile_model(std::move(*r.model));
    (void)compiled;
  } else {
    check(diags.has_errors());  // never rejected without a reason
  }
  check(diags.all().size() <= diags.kept_limit() + 1);  // + the one note a policy may carry
  for (const diag::Diagnostic& d : diags.all()) {
    check(!d.code.empty() && !d.message.empty());
    check(d.message.size() <= diag::Diagnostics::kMaxMessageBytes + 3);
    in_bounds(sources, d.range);
    for (const diag::Note& n : d.notes) in_bounds(sources, n.range);
  }
  diags.sort();
  std::string text = diag::render_text(diags);
  std::string json = diag::render_json(diags);
  check(diags.all().empty() || (!text.empty() && json.size() > 2));
  return 0;
}
