// A policy's kernel fast path, ready to attach (docs/xdp.md, "Runtime"):
// its maps filled and its program verified, built off the packet path when
// the policy is compiled. The control loop attaches it, replaces the last
// one with it on a reload, reads its counters and writes its blocks.
#pragma once

#include <memory>
#include <string>

#include "dnspc/runtime/kernel_maps.h"
#include "dnspc/runtime/xdp.h"

namespace dnspc::xdp {

struct KernelProgram {
  std::string interface;
  Mode mode = Mode::native;
  uint32_t rules = 0;        // the prefix: rules [0, rules) run in the kernel
  std::string end_reason;    // why rule `rules` does not (empty: every rule does)
  std::unique_ptr<KernelMaps> maps;
  std::unique_ptr<Program> program;
  double generate_s = 0, load_s = 0;  // code generation; maps, load and verification
};

}  // namespace dnspc::xdp
