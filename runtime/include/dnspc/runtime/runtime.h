// `dnspc run`: the UDP load balancer. One libuv loop per worker thread, each
// with its own SO_REUSEPORT listeners and backend sockets; the main thread
// runs signals, health checks and the control socket. docs/runtime.md.
#pragma once

#include <memory>
#include <string>

#include "dnspc/runtime/log.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::runtime {

struct RunOptions {
  std::string control_path;  // overrides the policy's `control`; empty: the policy's, else the default
};

constexpr const char* kDefaultControlPath = "/run/dnspc/control.sock";

// What stops the runtime from starting; empty when it can run.
std::string validate(const PolicyImage& image);

// Runs in the foreground until SIGTERM or SIGINT, then stops reading queries,
// answers or times out what is in flight (bounded by the UDP timeout) and
// returns 0. Returns 3 when it cannot start (a socket cannot be opened).
int run(std::shared_ptr<const PolicyImage> image, const RunOptions& options);

}  // namespace dnspc::runtime
