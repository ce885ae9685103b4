#include "policy_loader.h"

#include <fmt/core.h>

#include <functional>
#include <string_view>
#include <unordered_map>

#include "dnspc/jit/native.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/bridge.h"
#include "exit_codes.h"

namespace dnspc::cli {

LoadedPolicy load_policy(const std::string& path, jit::Engine* engine, bool json, bool color,
                         const std::atomic<bool>* cancel) {
  LoadedPolicy out;
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.cancel = cancel;
  pipeline::CompileResult compiled = pipeline::compile_file(path, diags, options);
  if (compiled.status == frontend::LoadStatus::kUnreadable) {
    out.result.error = "cannot read the policy: " + compiled.io_error;
    out.exit_code = kExitInternal;
    return out;
  }
  if (compiled.status == frontend::LoadStatus::kCancelled || (cancel && cancel->load())) {
    out.result.error = "abandoned: dnspc is stopping";
    out.exit_code = kExitInternal;
    return out;
  }
  diags.sort();
  if (json) {
    if (diags.error_count() + diags.warning_count() > 0)
      out.result.diagnostics = diag::render_json(diags);
  } else {
    out.result.diagnostics = diag::render_text(diags, color);
  }
  if (!compiled.policy || diags.has_errors()) {
    out.result.error = fmt::format("the policy has {} error{}", diags.error_count(),
                                   diags.error_count() == 1 ? "" : "s");
    out.exit_code = kExitBadInput;
    return out;
  }
  std::string lua = runtime_bridge::lua_refusal(compiled.policy->model);
  if (!lua.empty()) {
    out.result.error = lua;
    out.exit_code = kExitBadInput;
    return out;
  }
  // A reload tells a changed rule by its source text.
  std::unordered_map<std::string, uint64_t> fingerprints;
  for (const sema::Rule& r : compiled.policy->model.rules) {
    std::string_view text;
    if (r.range.valid() && r.range.end <= sources.text(r.range.file).size()) {
      text = sources.text(r.range.file).substr(r.range.begin, r.range.end - r.range.begin);
    }
    fingerprints[r.name] = std::hash<std::string_view>{}(text) | 1;
  }
  auto policy = std::make_shared<const pipeline::CompiledPolicy>(std::move(*compiled.policy));
  std::string error;
  std::shared_ptr<runtime::PolicyImage> image =
      runtime_bridge::make_image(policy, path, engine, error);
  if (!image) {
    out.result.error = "cannot compile the policy to native code: " + error;
    out.exit_code = kExitInternal;
    return out;
  }
  for (runtime::RuleSpec& r : image->rules) {
    auto it = fingerprints.find(r.name);
    if (it != fingerprints.end()) r.fingerprint = it->second;
  }
  out.result.image = std::move(image);
  return out;
}

}  // namespace dnspc::cli
