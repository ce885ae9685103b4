#include "policy_loader.h"

#include <fmt/core.h>

#include <chrono>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "dnspc/jit/native.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/bridge.h"
#include "dnspc/runtime/log.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds since `t`, which moves to now.
double lap_ms(Clock::time_point& t) {
  const Clock::time_point now = Clock::now();
  const double ms = std::chrono::duration<double, std::milli>(now - t).count();
  t = now;
  return ms;
}

// Everything load() builds that the image does not keep.
struct Leftovers {
  diag::SourceManager sources;
  diag::Diagnostics diags{sources};
  pipeline::CompileResult compiled;
  std::unordered_map<std::string, uint64_t> fingerprints;
};

LoadedPolicy load(const std::string& path, jit::Engine* engine, bool json, bool color,
                  const std::atomic<bool>* cancel, Clock::time_point& t, Leftovers& left) {
  LoadedPolicy out;
  auto& phases = out.result.phases_ms;
  diag::SourceManager& sources = left.sources;
  diag::Diagnostics& diags = left.diags;
  frontend::LoadOptions options;
  options.cancel = cancel;
  pipeline::CompileResult& compiled = left.compiled;
  compiled = pipeline::compile_file(path, diags, options);
  {
    const pipeline::CompileTimes& times = compiled.times;
    phases.emplace_back("read", times.front.read_s * 1e3);
    phases.emplace_back("parse", times.front.parse_s * 1e3);
    phases.emplace_back("sema", times.front.sema_s * 1e3);
    phases.emplace_back("lower", times.lower_s * 1e3);
    phases.emplace_back("optimise", times.optimize_s * 1e3);
    phases.emplace_back("pipeline", lap_ms(t));  // all of the above, and what lies between
  }
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
  phases.emplace_back("diagnostics", lap_ms(t));
  if (!compiled.policy || diags.has_errors()) {
    out.result.error = fmt::format("the policy has {} error{}", diags.error_count(),
                                   diags.error_count() == 1 ? "" : "s");
    out.exit_code = kExitBadInput;
    return out;
  }
  // A reload tells a changed rule by its source text.
  std::unordered_map<std::string, uint64_t>& fingerprints = left.fingerprints;
  for (const sema::Rule& r : compiled.policy->model.rules) {
    std::string_view text;
    if (r.range.valid() && r.range.end <= sources.text(r.range.file).size()) {
      text = sources.text(r.range.file).substr(r.range.begin, r.range.end - r.range.begin);
    }
    fingerprints[r.name] = std::hash<std::string_view>{}(text) | 1;
  }
  auto policy = std::make_shared<const pipeline::CompiledPolicy>(std::move(*compiled.policy));
  phases.emplace_back("fingerprints", lap_ms(t));
  std::string error;
  std::shared_ptr<runtime::PolicyImage> image =
      runtime_bridge::make_image(policy, path, engine, error);
  if (!image) {
    out.result.error = "cannot compile the policy to native code: " + error;
    out.exit_code = kExitInternal;
    return out;
  }
  phases.emplace_back("native", lap_ms(t));
  for (runtime::RuleSpec& r : image->rules) {
    auto it = fingerprints.find(r.name);
    if (it != fingerprints.end()) r.fingerprint = it->second;
  }
  // FNV-1a over every source the compile read, in the order it read them.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (uint32_t f = 0; f < sources.file_count(); ++f) {
    for (unsigned char ch : sources.text(f)) hash = (hash ^ ch) * 0x100000001b3ull;
    hash = (hash ^ 0xff) * 0x100000001b3ull;  // a file boundary
  }
  image->source_hash = fmt::format("fnv1a64:{:016x}", hash);
  char ts[32];
  runtime::format_timestamp(ts);
  image->compiled_at = ts;
  out.result.image = std::move(image);
  return out;
}

}  // namespace

LoadedPolicy load_policy(const std::string& path, jit::Engine* engine, bool json, bool color,
                         const std::atomic<bool>* cancel) {
  Clock::time_point t = Clock::now();
  auto left = std::make_shared<Leftovers>();
  LoadedPolicy out = load(path, engine, json, color, cancel, t, *left);
  out.result.leftovers = std::move(left);
  return out;
}

}  // namespace dnspc::cli
