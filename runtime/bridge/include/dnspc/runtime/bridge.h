// The bridge from the compiler to the runtime: fills a runtime::PolicyImage
// (plain data and a decision function) from a pipeline::CompiledPolicy. The
// one place that sees both sides, so the runtime library itself never
// includes a compiler header. The decision function is opt::evaluate for
// now; the JIT's NativePolicy::decide plugs in here with the same shape.
#pragma once

#include <memory>
#include <string>

#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::jit {
class Engine;
}  // namespace dnspc::jit

namespace dnspc::runtime_bridge {

// The policy's Lua hooks as the runtime and `dnspc test` load them: the
// files read from disk, each function named once, the programs' uses mapped
// to them. False and `error` when a file cannot be read.
bool lua_spec(const pipeline::CompiledPolicy& policy, runtime::LuaSpec& out, std::string& error);

// The image of a compiled policy. The image keeps `policy` alive (it owns
// the tables the decision function reads). With a JIT engine the decision
// function is the policy's native code; without one (--no-jit), the C++
// optimised evaluator. nullptr and `error` when native compilation fails.
std::shared_ptr<runtime::PolicyImage> make_image(std::shared_ptr<const pipeline::CompiledPolicy> policy,
                                                 const std::string& path, jit::Engine* engine,
                                                 std::string& error);

}  // namespace dnspc::runtime_bridge
