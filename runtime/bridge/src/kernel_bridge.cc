// The kernel fast path of a compiled policy (docs/xdp.md): its prefix, the
// maps filled from its tables, the program generated against their
// descriptors and verified by the kernel. All of it before the policy is
// published, off the packet path.
#include <fmt/core.h>
#include <sys/random.h>

#include <chrono>
#include <cstring>

#include "dnspc/bpf/kernel_code.h"
#include "dnspc/kernel/prefix.h"
#include "dnspc/runtime/kernel_program.h"
#include "kernel_bridge.h"

namespace dnspc::runtime_bridge {

namespace {

uint64_t random_seed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != sizeof seed) {
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return seed | 1;
}

void add_acl(const std::vector<runtime::Prefix>& acl, kernel::KernelTables& t) {
  for (const runtime::Prefix& p : acl) {
    if (p.address.family == AddressFamily::kIPv4) {
      kernel::dnspc_k_lpm4 k{p.length, {}};
      std::memcpy(k.addr, p.address.bytes, 4);
      t.acl4.push_back(k);
    } else if (p.address.family == AddressFamily::kIPv6) {
      kernel::dnspc_k_lpm6 k{p.length, {}};
      std::memcpy(k.addr, p.address.bytes, 16);
      t.acl6.push_back(k);
    }
  }
}

}  // namespace

void make_kernel_program(const pipeline::CompiledPolicy& policy, runtime::PolicyImage& image) {
  const sema::Model& m = policy.model;
  if (!m.xdp) return;
  image.kernel_wanted = true;
  if (std::string problem = xdp::support_problem(); !problem.empty()) {
    image.kernel_problem = problem;
    return;
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto k = std::make_shared<xdp::KernelProgram>();
  k->interface = m.xdp->interface;
  k->mode = m.xdp->mode == sema::XdpMode::kGeneric ? xdp::Mode::generic : xdp::Mode::native;
  const ir::Program& program = policy.optimized.program;
  const kernel::KernelPrefix prefix = kernel::find_kernel_prefix(program);
  k->rules = prefix.rules;
  k->end_reason = prefix.end_reason;
  kernel::KernelTables tables = bpf::build_tables(program, prefix, random_seed());
  add_acl(image.acl, tables);
  std::string error;
  k->maps = xdp::KernelMaps::create(tables, error);
  if (!k->maps) {
    image.kernel_problem = error;
    return;
  }
  for (const NetAddress& listener : image.listeners) {
    if (!k->maps->add_listener(listener, error)) {
      image.kernel_problem = error;
      return;
    }
  }
  bpf::KernelCode code;
  if (!bpf::generate(program, prefix, tables, k->maps->fds(), code, error)) {
    image.kernel_problem = error;
    image.kernel_refused = true;
    return;
  }
  k->generate_s = code.seconds;
  xdp::Program::Functions functions{code.btf, code.subprograms, bpf::kFirstFunctionType};
  k->program = xdp::Program::load(code.instructions, "dnspc_xdp", functions, error);
  if (!k->program) {
    image.kernel_problem = error;
    image.kernel_refused = error.find("verifier") != std::string::npos;
    return;
  }
  k->load_s = std::chrono::duration<double>(Clock::now() - start).count() - k->generate_s;
  image.kernel = std::move(k);
}

}  // namespace dnspc::runtime_bridge
