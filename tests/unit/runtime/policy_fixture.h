// A policy as a worker runs it, for tests of the data plane's parts without
// sockets: compiled from text (C++ evaluator), bound to a one-worker
// registry, with a decision state and scratch memory.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/frontend/frontend.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/bridge.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::testing {

inline std::shared_ptr<const runtime::PolicyImage> image_of(const std::string& text) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("t.dp", text, diags, options);
  INFO(diag::render_text(diags));
  REQUIRE(loaded.model);
  auto compiled = std::make_shared<const pipeline::CompiledPolicy>(pipeline::compile_model(std::move(*loaded.model)));
  std::string error;
  auto image = runtime_bridge::make_image(compiled, "t.dp", nullptr, error);
  INFO(error);
  REQUIRE(image);
  return image;
}

struct BoundPolicy {
  explicit BoundPolicy(const std::string& text)
      : image(image_of(text)), registry(*image, 1), policy(runtime::bind_policy(image, registry)) {
    scratch.assign(std::max<size_t>(1, std::max(image->decide.scratch_words, image->response_decide.scratch_words)),
                   0);
    state.random = 1;
    state.rate_limiters = policy->limiters;
    state.source_tables = policy->source_tables;
    state.scratch = scratch.data();
    state.scratch_words = static_cast<uint32_t>(scratch.size());
  }
  runtime::WorkerCounters& counters() { return registry.worker(0); }
  uint64_t hits(const char* rule) {
    return counters().rule_hits[static_cast<uint32_t>(registry.find_rule(rule))].get();
  }

  std::shared_ptr<const runtime::PolicyImage> image;
  runtime::Registry registry;
  std::unique_ptr<runtime::ActivePolicy> policy;
  std::vector<uint32_t> scratch;
  DecisionState state;
};

}  // namespace dnspc::testing
