#include "jit_test_support.h"

#include <stdexcept>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"

namespace dnspc::testing {

jit::Engine& test_engine() {
  static std::unique_ptr<jit::Engine> engine = [] {
    std::string error;
    auto e = jit::Engine::create(error);
    if (!e) throw std::runtime_error("no JIT: " + error);
    return e;
  }();
  return *engine;
}

std::shared_ptr<const opt::OptimizedPolicy> optimized_policy(const std::string& text,
                                                             std::string& error,
                                                             ir::Program* reference) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("test.dp", text, diags, options);
  if (!loaded.model || diags.has_errors()) {
    error = diag::render_text(diags);
    return nullptr;
  }
  pipeline::CompiledPolicy compiled = pipeline::compile_model(std::move(*loaded.model));
  if (reference) *reference = std::move(compiled.reference);
  return std::make_shared<const opt::OptimizedPolicy>(std::move(compiled.optimized));
}

}  // namespace dnspc::testing
