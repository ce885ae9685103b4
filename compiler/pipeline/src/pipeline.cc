#include "dnspc/pipeline/pipeline.h"

#include <chrono>

#include "dnspc/ir/lower.h"

namespace dnspc::pipeline {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

CompiledPolicy compile_model(sema::Model model) {
  CompiledPolicy out;
  auto start = std::chrono::steady_clock::now();
  out.reference = ir::lower(model);
  out.response_reference = ir::lower_responses(model);
  out.times.lower_s = seconds_since(start);
  start = std::chrono::steady_clock::now();
  opt::IndexOptions options;
  options.regex_union_budget = model.options.regex_state_budget;
  out.optimized = opt::optimize(out.reference, options);
  out.response_optimized = opt::optimize(out.response_reference, options);
  out.times.optimize_s = seconds_since(start);
  out.model = std::move(model);
  return out;
}

CompileResult compile_file(const std::string& path, diag::Diagnostics& diags,
                           const frontend::LoadOptions& options) {
  CompileResult result;
  frontend::LoadResult loaded = frontend::load_policy(path, diags, options);
  result.status = loaded.status;
  result.io_error = loaded.io_error;
  result.times.front = loaded.times;
  result.syntax_tree = std::move(loaded.syntax_tree);
  if (!loaded.model || loaded.status != frontend::LoadStatus::kOk) return result;
  result.policy = compile_model(std::move(*loaded.model));
  result.policy->times.front = loaded.times;
  result.times = result.policy->times;
  return result;
}

}  // namespace dnspc::pipeline
