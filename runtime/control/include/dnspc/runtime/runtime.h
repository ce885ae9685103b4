// `dnspc run`: the UDP load balancer. One libuv loop per worker thread, each
// with its own SO_REUSEPORT listeners and backend sockets; the main thread
// runs signals, health checks and the control socket. docs/runtime.md.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dnspc/runtime/log.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::runtime {

// What a reload gets from whoever compiles policies (the CLI: parse, check,
// native code). The runtime never sees the compiler: it calls this on a
// thread of its own, off the packet path and off the main loop.
struct LoadResult {
  std::shared_ptr<const PolicyImage> image;  // null: rejected
  std::string diagnostics;  // rendered as `check` renders them (file:line:col); may hold warnings when accepted
  std::string error;        // one line when rejected (e.g. "the policy has 2 errors")
  // Where the loader's time went, in its order ("parse", "native", ...): a
  // reload's answer reports them, so compile_ms can be compared with check.
  std::vector<std::pair<std::string, double>> phases_ms;
  // What the loader built and does not keep (the compiler's syntax tree,
  // sources, diagnostics): freeing it took the loader 50-100 ms at 100k
  // rules, so it is left to the caller, who can free it off the clock (the
  // reloader: on its release thread).
  std::shared_ptr<const void> leftovers;
};
// `cancel` is set when the result is no longer wanted (the process stops):
// the loader should give up at its next phase.
using PolicyLoader = std::function<LoadResult(const std::string& path, const std::atomic<bool>& cancel)>;

struct RunOptions {
  std::string control_path;  // overrides the policy's `control`; empty: the policy's, else the default
  PolicyLoader loader;       // empty: reloads are refused
  bool watch = false;        // reload when the policy file changes
};

constexpr const char* kDefaultControlPath = "/run/dnspc/control.sock";

// What stops the runtime from starting; empty when it can run.
std::string validate(const PolicyImage& image);

// Runs in the foreground until SIGTERM or SIGINT, then stops reading queries,
// answers or times out what is in flight (bounded by the UDP timeout) and
// returns 0. Returns 3 when it cannot start (a socket cannot be opened).
int run(std::shared_ptr<const PolicyImage> image, const RunOptions& options);

}  // namespace dnspc::runtime
