// Hot reload, the main thread's side (docs/runtime.md, "Hot reload"): the
// one reload function SIGHUP, the control socket, `run --watch` (and later the
// console and web API) call. One reload at a time; requests made meanwhile
// wait their turn, in order.
//
//   compile   the loader, on a thread of its own; the result comes back
//             through a uv_async, so health checks and the control socket
//             keep running. A rejected policy changes nothing.
//   prepare   listeners it adds are opened (each address checked free); the
//             registry learns its names (looked up on the compile thread,
//             only the new ones added here); it is bound; every worker opens
//             sockets toward its new servers and grows its tables (a job on
//             the worker's own loop), and acknowledges.
//   swap      the new ActivePolicy is published; workers pick it up at their
//             next batch (idle ones are woken) and acknowledge it; when all
//             have, QPS state charged meanwhile is carried over and the old
//             policy (image, native code, tables) is handed to the release
//             thread, which frees it.
#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/runtime.h"
#include "health.h"
#include "kernel_path.h"
#include "dnspc/runtime/registry.h"
#include "dnspc/runtime/releaser.h"
#include "stack_thread.h"
#include "dnspc/runtime/worker_thread.h"

namespace dnspc::runtime {

struct ReloadOutcome {
  bool ok = false;
  std::string policy;                       // the path loaded
  std::string message;                      // one line: what changed, or why nothing did
  std::string diagnostics;                  // the compiler's, file:line:col
  std::vector<std::string> not_reloadable;  // changes left alone
  RegistryChanges changes;
  double compile_ms = 0, swap_ms = 0;
  std::vector<std::pair<std::string, double>> compile_phases_ms;  // the loader's (LoadResult::phases_ms)
  // How long each step on the main loop took ("bind", "publish", "release"):
  // health checks and the control socket wait that long.
  std::vector<std::pair<std::string, double>> main_steps_ms;
  std::string time;  // when it finished, UTC
};

// {"ok":..,"policy":..,"message":..,"diagnostics":..,"compile_ms":..,...}
std::string reload_json(const ReloadOutcome& o, const Registry* registry);

class Reloader {
 public:
  struct Parts {
    uv_loop_t* loop = nullptr;
    PolicyLoader loader;
    Registry* registry = nullptr;
    std::atomic<const ActivePolicy*>* current = nullptr;
    std::unique_ptr<ActivePolicy>* active = nullptr;
    std::vector<std::unique_ptr<WorkerThread>>* workers = nullptr;
    HealthChecker* health = nullptr;
    KernelPath* kernel = nullptr;  // the XDP program's swap at publish time
    unsigned sockets_per_backend = 4;  // what the workers were started with
    std::string control_path;          // what the control socket was started with
    std::optional<NetAddress> web_address;  // what the web server listens on (none: not running)
    std::optional<NetAddress> console_address;  // what the console listens on (none: not running)
    std::string console_key_file;               // the key file it read at start
    // When a policy is published: it, and the source ports of every worker's
    // backend sockets by registry id (for the control socket).
    std::function<void(const ActivePolicy*, std::vector<std::vector<uint16_t>>)> on_published;
  };
  using Done = std::function<void(const ReloadOutcome&)>;

  explicit Reloader(Parts parts);
  ~Reloader();

  // Reloads `path` (empty: the current policy's). `done` is called on the main
  // loop once the new policy runs on every worker, or was rejected.
  void reload(std::string path, Done done);
  // The runtime is stopping: waiting and later requests are refused.
  void refuse_new();
  // Every worker has ended: waits for a compilation in progress to end, then
  // closes the handle workers and the compile thread signal.
  void close();
  // What workers signal when they acknowledge a policy (WorkerThread::set_swap_notify).
  uv_async_t* wake_handle() { return &wake_; }
  bool has_last() const { return reloads_ > 0; }
  const ReloadOutcome& last() const { return last_; }
  uint64_t reloads() const { return reloads_; }
  uint64_t failures() const { return failures_; }
  const std::string& path() const { return path_; }
  void set_path(std::string path) { path_ = std::move(path); }

 private:
  enum class Phase { kIdle, kCompiling, kPreparing, kSwapping };
  struct Request {
    std::string path;
    Done done;
  };

  void start_next();
  void on_wake();
  void on_compiled();
  void on_prepared();
  void on_swapped();
  void finish(ReloadOutcome outcome);
  void reject(std::string message);

  Parts parts_;
  uv_async_t wake_;
  bool stopped_ = false;
  Phase phase_ = Phase::kIdle;
  std::deque<Request> queue_;
  Request current_;
  std::string path_;

  // Compile thread: a stack of known size (the compiler's recursion is
  // bounded by policy nesting, not by the operator's ulimit).
  static constexpr size_t kCompileStackBytes = size_t{64} << 20;
  StackThread thread_;
  std::atomic<bool> compiled_{false};
  std::atomic<bool> cancel_{false};  // set by close(): the loader gives up at its next phase
  LoadResult loaded_;
  // Made on the compile thread with the registry's names (Registry::plan),
  // so that the main loop only appends new names.
  RegistryPlan plan_;
  LuaStates lua_states_;  // built with the plan, for the policy being loaded
  // The old policy and rejected images are freed there, not on the main loop.
  Releaser releaser_;
  std::chrono::steady_clock::time_point started_, publish_at_;
  double compile_ms_ = 0;
  std::vector<std::pair<std::string, double>> main_steps_ms_;

  // Prepare and swap.
  std::unique_ptr<ActivePolicy> next_;
  RegistryChanges changes_;
  std::vector<std::string> not_reloadable_;
  std::vector<NetAddress> listeners_added_, listeners_removed_;
  std::vector<std::vector<int>>
      listener_fds_;  // per worker, per added address; -1: the worker revives its own
  // Listeners removed lately, whose sockets workers still hold (until the UDP
  // timeout has passed): adding one back revives them instead of opening.
  std::vector<std::pair<NetAddress, std::chrono::steady_clock::time_point>> recently_removed_;
  std::mutex prepare_mutex_;
  std::atomic<unsigned> prepared_{0};
  std::string prepare_error_;
  std::vector<std::vector<std::vector<uint16_t>>> ports_;  // per worker, by registry id

  ReloadOutcome last_;
  uint64_t reloads_ = 0, failures_ = 0;
};

}  // namespace dnspc::runtime
