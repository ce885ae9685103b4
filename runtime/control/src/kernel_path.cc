#include "kernel_path.h"

#include <chrono>
#include <set>

#include "dnspc/dynblock_engine.h"
#include "dnspc/runtime/kernel_program.h"
#include "dnspc/runtime/log.h"

namespace dnspc::runtime {

namespace {

namespace k = dnspc::kernel;

// How long queries the previous program marked may still sit in socket
// buffers after a swap: until then user space evaluates them whole.
constexpr uint64_t kDrainNs = 250'000'000;

uint64_t monotonic_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

const char* mode_name(xdp::Mode m) { return m == xdp::Mode::generic ? "generic" : "native"; }

// The kernel action of a block, if the kernel can run it.
bool kernel_block_action(BlockActionKind kind, k::dnspc_k_action_kind& out) {
  switch (kind) {
    case BlockActionKind::kDrop: out = k::DNSPC_K_DROP; return true;
    case BlockActionKind::kRefuse: out = k::DNSPC_K_REFUSE; return true;
    case BlockActionKind::kTruncate: out = k::DNSPC_K_TRUNCATE; return true;
    default: return false;
  }
}

}  // namespace

KernelPath::KernelPath(Registry& registry) : registry_(registry) {}

KernelPath::~KernelPath() = default;

bool KernelPath::acceptable(const PolicyImage& next, std::string& error) {
  if (!next.kernel_refused) return true;
  error = "the kernel fast path's program was refused: " + next.kernel_problem;
  return false;
}

void KernelPath::adopt(ActivePolicy& next, std::shared_ptr<xdp::KernelProgram> program) {
  program_ = std::move(program);
  rule_ids_.assign(next.rule_ids.begin(), next.rule_ids.begin() + std::min<size_t>(program_->rules, next.rule_ids.size()));
  last_rule_hits_.assign(program_->rules, 0);
  last_counters_.assign(k::DNSPC_K_COUNTER_COUNT, 0);
  next.kernel_rules = program_->rules;
  next.kernel_ifindex = attachment_->ifindex();
  next.kernel_trust_from_ns.store(monotonic_ns() + kDrainNs, std::memory_order_release);
  KernelCounters& c = registry_.kernel;
  c.attached = true;
  c.interface = program_->interface;
  c.mode = mode_name(program_->mode);
  c.rules = program_->rules;
  c.end_reason = program_->end_reason;
}

void KernelPath::start(ActivePolicy& policy) {
  const PolicyImage& image = *policy.image;
  if (!image.kernel_wanted) return;
  if (!image.kernel) {
    log(LogLevel::kWarning, "running without the kernel fast path", {{"reason", image.kernel_problem}});
    problem_said_ = image.kernel_problem;
    return;
  }
  std::string error;
  attachment_ = xdp::Attachment::attach(image.kernel->interface, image.kernel->mode, *image.kernel->program, error);
  if (!attachment_) {
    log(LogLevel::kWarning, "running without the kernel fast path", {{"reason", error}});
    problem_said_ = error;
    return;
  }
  adopt(policy, image.kernel);
  log(LogLevel::kInfo, "kernel fast path attached",
      {{"interface", program_->interface}, {"mode", mode_name(program_->mode)},
       {"rules", std::to_string(program_->rules)},
       {"first_rule_in_user_space", program_->end_reason.empty() ? "none" : program_->end_reason}});
}

// Without a program from here on. Queries the old one marked may still sit
// in socket buffers: `next` keeps its interface (with no rules and no
// trust), so their mark is cleared and they are evaluated whole.
void KernelPath::stop(const ActivePolicy& running, ActivePolicy& next) {
  const int ifindex = attachment_ ? attachment_->ifindex() : running.kernel_ifindex;
  attachment_.reset();  // detaches
  fold_counters();      // the old program's last counts, now that it no longer runs
  program_.reset();
  registry_.kernel.attached = false;
  next.kernel_ifindex = ifindex;
  next.kernel_rules = 0;
}

void KernelPath::swap(const ActivePolicy& running, ActivePolicy& next) {
  const PolicyImage& image = *next.image;
  // From here a marked query is evaluated whole under the running policy:
  // right whichever program marked it.
  running.kernel_trust_from_ns.store(UINT64_MAX, std::memory_order_release);
  // The old program's counters are read for the last time once it no longer
  // runs (replaced or detached): read before, what it decided in between
  // would be lost from the kernel's counts at every reload.
  if (!image.kernel_wanted || !image.kernel) {
    if (image.kernel_wanted && image.kernel_problem != problem_said_) {
      log(LogLevel::kWarning, "running without the kernel fast path", {{"reason", image.kernel_problem}});
      problem_said_ = image.kernel_problem;
    }
    stop(running, next);
    return;
  }
  std::string error;
  const bool same_place = attachment_ && attachment_->interface() == image.kernel->interface &&
                          attachment_->mode() == image.kernel->mode;
  if (same_place) {
    if (!attachment_->replace(*image.kernel->program, error)) {
      log(LogLevel::kWarning, "the kernel fast path could not be replaced; running without it", {{"reason", error}});
      stop(running, next);
      return;
    }
    fold_counters();
  } else {
    stop(running, next);
    attachment_ = xdp::Attachment::attach(image.kernel->interface, image.kernel->mode, *image.kernel->program, error);
    if (!attachment_) {
      if (error != problem_said_) log(LogLevel::kWarning, "running without the kernel fast path", {{"reason", error}});
      problem_said_ = error;
      return;
    }
  }
  adopt(next, image.kernel);
}

void KernelPath::fold_counters() {
  if (!program_) return;
  KernelCounters& c = registry_.kernel;
  const std::vector<uint64_t> hits = program_->maps->rule_hits();
  if (c.rule_hits.size() < registry_.rule_count()) c.rule_hits.resize(registry_.rule_count(), 0);
  for (size_t r = 0; r < hits.size() && r < rule_ids_.size(); ++r) {
    const uint64_t now = hits[r];
    if (now > last_rule_hits_[r] && rule_ids_[r] < c.rule_hits.size()) c.rule_hits[rule_ids_[r]] += now - last_rule_hits_[r];
    last_rule_hits_[r] = now;
  }
  const std::vector<uint64_t> counters = program_->maps->counters();
  auto delta = [&](k::dnspc_k_counter which) -> uint64_t {
    if (which >= counters.size()) return 0;
    const uint64_t d = counters[which] > last_counters_[which] ? counters[which] - last_counters_[which] : 0;
    last_counters_[which] = counters[which];
    return d;
  };
  c.seen += delta(k::DNSPC_K_SEEN);
  c.passed += delta(k::DNSPC_K_PASSED);
  c.unparsed += delta(k::DNSPC_K_UNPARSED);
  c.unsealed += delta(k::DNSPC_K_UNSEALED);
  c.blocked += delta(k::DNSPC_K_DYNBLOCKED);
  c.actions[static_cast<unsigned>(ActionKind::kDrop)] += delta(k::DNSPC_K_ACTION_DROP);
  c.actions[static_cast<unsigned>(ActionKind::kRefuse)] += delta(k::DNSPC_K_ACTION_REFUSE);
  c.actions[static_cast<unsigned>(ActionKind::kRcode)] += delta(k::DNSPC_K_ACTION_RCODE);
  c.actions[static_cast<unsigned>(ActionKind::kTruncate)] += delta(k::DNSPC_K_ACTION_TRUNCATE);
}

void KernelPath::sync_blocks(const ActivePolicy& running) {
  if (!program_ || !running.blocks) return;
  const std::vector<BlockSpec>& specs = running.blocks->specs();
  std::set<std::string> now_blocked;
  std::string error;
  for (const BlockListing& b : running.blocks->list()) {
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const BlockSpec& s) { return s.name == b.block; });
    k::dnspc_k_action_kind kind;
    if (spec == specs.end() || !kernel_block_action(spec->action, kind)) continue;
    const size_t slash = b.prefix.find('/');
    std::optional<NetAddress> address = NetAddress::parse(b.prefix.substr(0, slash));
    if (!address || slash == std::string::npos) continue;
    const auto length = static_cast<uint8_t>(std::stoi(b.prefix.substr(slash + 1)));
    if (program_->maps->block(*address, length, kind, 0, b.expiry_ns, error)) now_blocked.insert(b.prefix);
  }
  for (const std::string& gone : blocks_in_kernel_) {
    if (now_blocked.count(gone)) continue;
    const size_t slash = gone.find('/');
    if (auto address = NetAddress::parse(gone.substr(0, slash))) {
      program_->maps->unblock(*address, static_cast<uint8_t>(std::stoi(gone.substr(slash + 1))));
    }
  }
  blocks_in_kernel_ = std::move(now_blocked);
}

void KernelPath::tick(const ActivePolicy& running) {
  fold_counters();
  sync_blocks(running);
}

}  // namespace dnspc::runtime
