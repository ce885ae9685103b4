// Shared by the JIT tests: one engine per process, policies from text.
#pragma once

#include <memory>
#include <string>

#include "dnspc/jit/native.h"
#include "dnspc/opt/index.h"
#include "dnspc/pipeline/pipeline.h"

namespace dnspc::testing {

// The process's engine (created on first use; a test fails without a JIT).
jit::Engine& test_engine();

// Loads, lowers and optimises a policy text; null (and `error`) when it has
// errors. `reference` receives the program as lowered when given.
std::shared_ptr<const opt::OptimizedPolicy> optimized_policy(const std::string& text,
                                                             std::string& error,
                                                             ir::Program* reference = nullptr);

}  // namespace dnspc::testing
