// The kernel fast path on the main thread (docs/xdp.md, "Runtime"): attaches
// the running policy's XDP program, swaps it atomically on a reload, copies
// its counters into the registry every second and mirrors the dynamic
// blocks it can run into its maps.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::xdp {
class Attachment;
struct KernelProgram;
}  // namespace dnspc::xdp

namespace dnspc::runtime {

class KernelPath {
 public:
  explicit KernelPath(Registry& registry);
  ~KernelPath();

  // At start: attaches `policy`'s program, if it has one, and tells the
  // workers which queries it marks. A machine without XDP, an interface that
  // does not exist, no permission: said once, and dnspc runs without it.
  void start(ActivePolicy& policy);

  // Before a reload binds `next`: false and `error` when its program was
  // refused by the verifier (the running policy and program stay).
  static bool acceptable(const PolicyImage& next, std::string& error);

  // At the swap, on the main thread, before `next` is published: the running
  // policy stops trusting marks, the program changes (or goes), and `next`
  // trusts the new one's marks once those of the old have drained.
  void swap(const ActivePolicy& running, ActivePolicy& next);

  // Once a second: counters into the registry, dynamic blocks into the maps.
  void tick(const ActivePolicy& running);

  // Whether queries are decided in the kernel now.
  bool attached() const { return attachment_ != nullptr; }

 private:
  void fold_counters();
  void stop(const ActivePolicy& running, ActivePolicy& next);
  void sync_blocks(const ActivePolicy& running);
  void adopt(ActivePolicy& next, std::shared_ptr<xdp::KernelProgram> program);

  Registry& registry_;
  std::unique_ptr<xdp::Attachment> attachment_;
  std::shared_ptr<xdp::KernelProgram> program_;  // the attached one
  std::vector<uint32_t> rule_ids_;               // its prefix rule -> registry id
  // What the attached program's maps said at the last tick, and what the
  // programs before it said in all (their maps went with them).
  std::vector<uint64_t> last_rule_hits_;
  std::vector<uint64_t> last_counters_;
  std::string problem_said_;  // the last problem logged, so it is said once
  std::set<std::string> blocks_in_kernel_;  // prefixes of the blocks mirrored into the maps
};

}  // namespace dnspc::runtime
