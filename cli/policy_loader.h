// What `dnspc run` does with a policy file, at start and on each reload:
// compile it exactly as `check` does, refuse it on errors or Lua, make its
// image (native code unless --no-jit). The runtime gets this as its loader
// callback, so it never sees the compiler.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "dnspc/runtime/runtime.h"

namespace dnspc::jit {
class Engine;
}  // namespace dnspc::jit

namespace dnspc::cli {

struct LoadedPolicy {
  runtime::LoadResult result;
  int exit_code = 0;  // at start: kExitBadInput (errors, Lua) or kExitInternal (unreadable, JIT)
};

// `json`: diagnostics as `check --format json` renders them, else as text
// (with colour when `color`). Thread-safe for one engine. With `cancel` set
// (a stopping process), it gives up between phases.
LoadedPolicy load_policy(const std::string& path, jit::Engine* engine, bool json, bool color,
                         const std::atomic<bool>* cancel = nullptr);

}  // namespace dnspc::cli
