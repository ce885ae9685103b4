// The main thread: opens everything, starts the workers, then runs signals,
// health checks, the control socket and reloads (reloader.h) until the
// workers have drained.
#include "dnspc/runtime/runtime.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "dnspc/runtime/active_policy.h"
#include "block_evaluator.h"
#include "dnspc/runtime/commands.h"
#include "dnspc/runtime/console.h"
#include "control.h"
#include "health.h"
#include "dnspc/runtime/registry.h"
#include "kernel_path.h"
#include "reloader.h"
#include "dnspc/runtime/series.h"
#include "dnspc/runtime/service_notify.h"
#include "dnspc/runtime/sockets.h"
#include "dnspc/runtime/stats.h"
#include "dnspc/runtime/tcp_admission.h"
#include "dnspc/runtime/web.h"
#include "dnspc/runtime/web_counters.h"
#include "dnspc/runtime/worker_thread.h"

namespace dnspc::runtime {

std::string validate(const PolicyImage& image) {
  if (!image.decide.fn) return "the policy has no decision function";
  if (image.listeners.empty()) return "the policy listens nowhere";
  if (image.listeners.size() > 255) return "more than 255 listeners";
  for (const NetAddress& a : image.listeners) {
    if (a.family == AddressFamily::kNone) return "a listener has no address";
  }
  for (const RuleSpec& r : image.rules) {
    if ((r.action == ActionKind::kPool || r.action == ActionKind::kAllow) && r.argument >= image.pools.size()) {
      return "rule '" + r.name + "' forwards to a pool the policy does not have";
    }
    if (r.action == ActionKind::kSpoof && r.argument >= image.spoof_sets.size()) {
      return "rule '" + r.name + "' spoofs from a record set the policy does not have";
    }
    if (r.action == ActionKind::kLua && r.argument >= image.lua.query_uses.size()) {
      return "rule '" + r.name + "' calls a Lua action the policy's Lua hooks do not have";
    }
  }
  for (const ResponseRuleSpec& r : image.response_rules) {
    if (r.action == ActionKind::kLua && r.argument >= image.lua.response_uses.size()) {
      return "response rule '" + r.name + "' calls a Lua action the policy's Lua hooks do not have";
    }
  }
  for (const PoolSpec& p : image.pools) {
    if (p.policy == LbPolicy::kLua && p.lua_hook >= image.lua.hooks.size()) {
      return "pool '" + p.name + "' names a Lua policy the policy's Lua hooks do not have";
    }
  }
  if (!image.response_rules.empty() && !image.response_decide.fn) {
    return "the policy has response rules but no response decision function";
  }
  if (image.tags.size() > 64) return "more than 64 tags";
  return "";
}

namespace {

struct Main {
  uv_loop_t loop;
  uv_signal_t sigint, sigterm, sighup;
  uv_fs_poll_t watch;
  bool watching = false;
  std::unique_ptr<Reloader> reloader;
  uv_async_t worker_done;
  uv_timer_t deadline;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<ActivePolicy> active;
  std::unique_ptr<BlockEvaluator> blocks;
  std::unique_ptr<KernelPath> kernel;
  uv_timer_t kernel_tick;  // KernelPath::tick, once a second
  bool kernel_ticking = false;
  std::atomic<const ActivePolicy*> current{nullptr};
  std::vector<std::unique_ptr<WorkerThread>> workers;
  std::unique_ptr<HealthChecker> health;
  std::unique_ptr<SeriesSampler> series;
  std::unique_ptr<ControlServer> control;
  std::unique_ptr<WebServer> web;
  std::unique_ptr<ConsoleServer> console;
  std::optional<ConsoleSpec> console_start;  // as web_start
  ConsoleCounters console_counters;
  // The web settings of the policy it started with: what the web server
  // follows while a reloaded policy has no `web` (its address stays).
  std::optional<WebSpec> web_start;
  WebCounters web_counters;
  TcpAdmission tcp_admission;  // TCP connection limits shared by the workers
  MetricsContext stats;  // what the control documents and metrics read
  std::chrono::steady_clock::time_point started;
  int signals = 0;
  bool closing = false;
  bool deadline_started = false;
  // systemd's Type=notify (docs/reliability.md, "systemd"); inert without
  // $NOTIFY_SOCKET.
  ServiceNotifier notifier;
  std::string serving_status;  // STATUS= while serving

  void on_signal(int signum) {
    ++signals;
    if (signals == 1) {
      log(LogLevel::kInfo, "stopping: answering or timing out the queries in flight",
          {{"signal", signum == SIGINT ? "SIGINT" : "SIGTERM"}});
      notifier.stopping("stopping: answering or timing out the queries in flight");
      if (reloader) reloader->refuse_new();
      for (auto& w : workers) w->drain();
      // A bound beyond the workers' own: every UDP query in flight times out
      // within the UDP timeout, a TCP one within its wait for room (the
      // backend timeout) and two tries of connect + backend timeout, a held
      // answer within its delay.
      const Options& o = active->image->options;
      uint64_t longest_delay_ms = 0;
      for (const RuleSpec& r : active->image->rules) longest_delay_ms = std::max<uint64_t>(longest_delay_ms, r.delay_ms);
      uint64_t bound_ms = std::max({active->udp_timeout_ns / 1'000'000,
                                    o.tcp.backend_timeout_ms +
                                        2 * (o.tcp.connect_timeout_ms + o.tcp.backend_timeout_ms),
                                    longest_delay_ms}) +
                          3000;
      uv_timer_start(&deadline, [](uv_timer_t* t) { static_cast<Main*>(t->data)->on_deadline(); }, bound_ms, 0);
      deadline_started = true;
    } else {
      log(LogLevel::kWarning, "second signal: stopping without waiting for the queries in flight");
      for (auto& w : workers) w->stop_now();
    }
  }

  void on_deadline() {
    log(LogLevel::kError, "the workers did not stop in time; exiting anyway");
    std::_Exit(3);
  }

  void on_worker_done() {
    if (closing) return;
    for (auto& w : workers) {
      if (!w->done()) return;
    }
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&worker_done), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
    if (reloader) {
      uv_close(reinterpret_cast<uv_handle_t*>(&sighup), nullptr);
      if (watching) uv_close(reinterpret_cast<uv_handle_t*>(&watch), nullptr);
      reloader->close();
    }
    if (health) health->stop();
    if (series) series->stop();
    if (control) control->stop();
    if (web) web->stop();
    if (console) console->stop();
    if (blocks) blocks->stop();
    if (kernel_ticking) uv_close(reinterpret_cast<uv_handle_t*>(&kernel_tick), nullptr);
  }

  // The control socket's lines, through the one command table (commands.h).
  void command(std::string_view line, ControlServer::Reply reply) {
    CommandContext c;
    c.registry = registry.get();
    c.current = &current;
    c.stats = &stats;
    c.reloader = reloader.get();
    c.series = series.get();
    c.started = started;
    dispatch_command(c, line, reply);
  }

  // The web server's ACL and writes: the running policy's, so a reload
  // changes them; the first policy's while the running one has no `web`.
  const WebSpec* web_settings() const {
    const ActivePolicy* p = current.load(std::memory_order_acquire);
    if (p && p->image->web) return &*p->image->web;
    return web_start ? &*web_start : nullptr;
  }

  // The console's ACL: the running policy's, as the web server's.
  const ConsoleSpec* console_settings() const {
    const ActivePolicy* p = current.load(std::memory_order_acquire);
    if (p && p->image->console) return &*p->image->console;
    return console_start ? &*console_start : nullptr;
  }

  // SIGHUP and --watch: reload the current policy file; the outcome is logged.
  // Under systemd each is RELOADING=1, then READY=1 once the outcome is
  // known (a rejected policy leaves the old one serving: ready all the same).
  void reload_current() {
    if (!reloader) return;
    notifier.reloading("reloading the policy");
    reloader->reload("", [this](const ReloadOutcome& o) {
      if (signals > 0) return;  // stopping: STOPPING=1 stands
      notifier.ready(o.ok ? serving_status + "; reloaded: " + o.message
                          : serving_status +
                                "; the last reload failed, the previous policy runs: " + o.message);
    });
  }

  // A start that failed once the loop exists: every handle closed and every
  // loop closed (a worker that never ran closes its own when destroyed), so
  // nothing is left behind. Returns the exit code.
  int abandon_start() {
    if (health) health->stop();
    if (series) series->stop();
    if (control) control->stop();  // removes the socket file
    if (web) web->stop();
    if (console) console->stop();
    uv_walk(&loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    workers.clear();
    return 3;
  }
};

std::string join_addresses(const std::vector<NetAddress>& v) {
  std::string out;
  for (const NetAddress& a : v) out += (out.empty() ? "" : ",") + a.to_string(true);
  return out;
}

}  // namespace

int run(std::shared_ptr<const PolicyImage> image, const RunOptions& options) {
  std::string problem = validate(*image);
  if (!problem.empty()) {
    log(LogLevel::kError, "cannot run the policy", {{"policy", image->path}, {"reason", problem}});
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);

  // The web server's credentials before anything opens: without a password
  // (as a hash) it does not start, and neither does dnspc.
  WebCredentials web_credentials;
  if (image->web && !web_credentials_from_env(web_credentials, problem)) {
    log(LogLevel::kError, "the web server cannot start", {{"web", image->web->address.to_string(true)}, {"reason", problem}});
    return 1;
  }

  auto m = std::make_unique<Main>();
  m->notifier = ServiceNotifier::from_environment();
  m->started = std::chrono::steady_clock::now();
  unsigned nworkers = image->options.workers;
  if (nworkers == 0) nworkers = std::max(1u, std::thread::hardware_concurrency());
  m->registry = std::make_unique<Registry>(*image, nworkers);
  m->active = bind_policy(image, *m->registry);
  // Each worker's Lua state, before any worker runs.
  std::string error;
  if (!build_lua_states(*image, nworkers, m->active->lua, error)) {
    log(LogLevel::kError, "cannot run the policy", {{"policy", image->path}, {"reason", error}});
    return 1;
  }
  bind_lua_stats(m->active->lua, *image, *m->registry);
  // The kernel fast path before any worker reads the policy: they learn
  // from it which queries the XDP program marks.
  m->kernel = std::make_unique<KernelPath>(*m->registry);
  m->kernel->start(*m->active);
  m->current.store(m->active.get(), std::memory_order_release);

  // Listeners: each address must be free of other processes; then one
  // SO_REUSEPORT socket per worker.
  for (const NetAddress& a : image->listeners) {
    if (!address_free(a, error)) {
      log(LogLevel::kError, "cannot start", {{"reason", error}});
      return 3;
    }
  }
  uv_loop_init(&m->loop);
  uv_async_init(&m->loop, &m->worker_done, [](uv_async_t* h) { static_cast<Main*>(h->data)->on_worker_done(); });
  m->worker_done.data = m.get();
  for (unsigned w = 0; w < nworkers; ++w) {
    WorkerConfig c;
    c.index = w;
    c.registry = m->registry.get();
    c.policy = &m->current;
    c.listen_addresses = image->listeners;
    c.sockets_per_backend = image->options.sockets_per_backend;
    c.done_notify = &m->worker_done;
    for (const NetAddress& a : image->listeners) {
      int fd = open_listener(a, error);
      if (fd < 0) {
        for (int f : c.listener_fds) ::close(f);
        log(LogLevel::kError, "cannot start", {{"reason", error}});
        return m->abandon_start();
      }
      c.listener_fds.push_back(fd);
    }
    for (const NetAddress& a : image->listeners) {
      int fd = open_tcp_listener(a, error);
      if (fd < 0) {
        for (int f : c.listener_fds) ::close(f);
        for (int f : c.tcp_listener_fds) ::close(f);
        log(LogLevel::kError, "cannot start", {{"reason", error}});
        return m->abandon_start();
      }
      c.tcp_listener_fds.push_back(fd);
    }
    c.tcp_admission = &m->tcp_admission;
    auto worker = std::make_unique<WorkerThread>(std::move(c));
    if (!worker->open(error)) {
      log(LogLevel::kError, "cannot start", {{"reason", error}});
      return m->abandon_start();
    }
    m->workers.push_back(std::move(worker));
  }
  m->stats.registry = m->registry.get();
  m->stats.policy = m->active.get();
  m->stats.backend_ports.resize(m->registry->server_count());
  for (uint32_t id = 0; id < m->registry->server_count(); ++id) {
    for (auto& w : m->workers) {
      for (uint16_t p : w->backend_ports(id)) m->stats.backend_ports[id].push_back(p);
    }
  }

  // The control socket: --control, else the policy's, else the default (which
  // may be unusable for an unprivileged user: then we run without one).
  std::string control_path = !options.control_path.empty() ? options.control_path : image->control_path;
  bool explicit_control = !control_path.empty();
  if (!explicit_control) {
    control_path = kDefaultControlPath;
    // /run/dnspc may not exist yet; root can make it, others get a warning below.
    std::string dir = control_path.substr(0, control_path.rfind('/'));
    (void)::mkdir(dir.c_str(), 0755);
  }
  m->control = std::make_unique<ControlServer>(
      &m->loop, [mp = m.get()](std::string_view c, ControlServer::Reply reply) { mp->command(c, std::move(reply)); });
  if (!m->control->start(control_path, error)) {
    if (explicit_control) {
      log(LogLevel::kError, "cannot start", {{"reason", error}});
      return m->abandon_start();
    }
    log(LogLevel::kWarning, "running without a control socket", {{"reason", error}});
  }

  // The web server, when the policy has `web`: like a listener, an address
  // it cannot take stops the start.
  if (image->web) {
    m->web_start = image->web;
    WebServerConfig web;
    web.address = image->web->address;
    web.limits = web_limits_from_env();
    web.app.credentials = std::move(web_credentials);
    web.app.command = [mp = m.get()](std::string_view line, std::function<void(std::string)> reply) {
      mp->command(line, std::move(reply));
    };
    web.app.settings = [mp = m.get()] { return mp->web_settings(); };
    web.app.counters = &m->web_counters;
    m->web = std::make_unique<WebServer>(&m->loop, std::move(web));
    if (!m->web->start(error)) {
      log(LogLevel::kError, "cannot start", {{"reason", error}});
      return m->abandon_start();
    }
  }
  m->stats.web = &m->web_counters;

  // The console, when the policy has `console` and a key can be found;
  // without a key it stays off and says why (dnspc runs on).
  if (image->console) {
    std::string key_error;
    std::optional<console::Key> key = console::load_key(image->console->key_file, key_error);
    if (!key) {
      log(LogLevel::kError, "the console does not start",
          {{"console", image->console->address.to_string(true)}, {"reason", key_error}});
    } else {
      m->console_start = image->console;
      ConsoleServerConfig config;
      config.address = image->console->address;
      config.key = *key;
      config.command = [mp = m.get()](std::string_view line, std::function<void(std::string)> reply) {
        mp->command(line, std::move(reply));
      };
      config.settings = [mp = m.get()] { return mp->console_settings(); };
      config.counters = &m->console_counters;
      console_timeouts_from_env(config);
      m->console = std::make_unique<ConsoleServer>(&m->loop, std::move(config));
      if (!m->console->start(error)) {
        log(LogLevel::kError, "cannot start", {{"reason", error}});
        return m->abandon_start();
      }
    }
  }
  m->stats.console = &m->console_counters;

  m->health = std::make_unique<HealthChecker>(&m->loop, *m->registry);
  if (!m->health->start(error)) {
    log(LogLevel::kError, "cannot start", {{"reason", error}});
    return m->abandon_start();
  }

  m->series = std::make_unique<SeriesSampler>(&m->loop, *m->registry);
  m->series->start();

  uv_timer_init(&m->loop, &m->kernel_tick);
  m->kernel_ticking = true;
  m->kernel_tick.data = m.get();
  uv_timer_start(&m->kernel_tick, [](uv_timer_t* t) {
    Main* mp = static_cast<Main*>(t->data);
    if (const ActivePolicy* p = mp->current.load(std::memory_order_acquire)) mp->kernel->tick(*p);
  }, 1000, 1000);

  uv_signal_init(&m->loop, &m->sigint);
  uv_signal_init(&m->loop, &m->sigterm);
  m->sigint.data = m->sigterm.data = m.get();
  uv_signal_start(&m->sigint, [](uv_signal_t* h, int s) { static_cast<Main*>(h->data)->on_signal(s); }, SIGINT);
  uv_signal_start(&m->sigterm, [](uv_signal_t* h, int s) { static_cast<Main*>(h->data)->on_signal(s); }, SIGTERM);
  uv_timer_init(&m->loop, &m->deadline);
  m->deadline.data = m.get();

  // Reloads: SIGHUP, `reload` on the control socket, --watch.
  Reloader::Parts parts;
  parts.loop = &m->loop;
  parts.loader = options.loader;
  parts.registry = m->registry.get();
  parts.current = &m->current;
  parts.active = &m->active;
  parts.workers = &m->workers;
  parts.health = m->health.get();
  parts.kernel = m->kernel.get();
  parts.sockets_per_backend = image->options.sockets_per_backend;
  if (image->web) parts.web_address = image->web->address;
  if (m->console) {
    parts.console_address = image->console->address;
    parts.console_key_file = image->console->key_file;
  }
  parts.on_published = [mp = m.get()](const ActivePolicy* p, std::vector<std::vector<uint16_t>> ports) {
    mp->stats.policy = p;
    mp->stats.backend_ports = std::move(ports);
  };
  m->reloader = std::make_unique<Reloader>(std::move(parts));
  m->reloader->set_path(image->path);
  for (auto& w : m->workers) w->set_swap_notify(m->reloader->wake_handle());
  uv_signal_init(&m->loop, &m->sighup);
  m->sighup.data = m.get();
  uv_signal_start(&m->sighup, [](uv_signal_t* h, int) { static_cast<Main*>(h->data)->reload_current(); }, SIGHUP);
  if (options.watch) {
    // Polls the file's stat (editors replace files, which inotify on the old
    // inode would miss); a change reloads whatever path is current.
    uv_fs_poll_init(&m->loop, &m->watch);
    m->watch.data = m.get();
    int r = uv_fs_poll_start(
        &m->watch,
        [](uv_fs_poll_t* h, int status, const uv_stat_t*, const uv_stat_t*) {
          if (status == 0) static_cast<Main*>(h->data)->reload_current();
        },
        image->path.c_str(), 500);
    m->watching = true;
    if (r != 0) log(LogLevel::kWarning, "cannot watch the policy", {{"policy", image->path}, {"reason", uv_strerror(r)}});
  }

  for (const std::string& w : image->not_applied) log(LogLevel::kWarning, "not applied yet", {{"what", w}});
  for (auto& w : m->workers) w->start();
  m->blocks = std::make_unique<BlockEvaluator>(&m->loop, &m->current);
  m->blocks->start();
  size_t servers = m->registry->server_count();
  log(LogLevel::kInfo, "running",
      {{"policy", image->path},
       {"listen", join_addresses(image->listeners)},
       {"workers", nworkers},
       {"pools", static_cast<uint64_t>(image->pools.size())},
       {"servers", static_cast<uint64_t>(servers)},
       {"rules", static_cast<uint64_t>(image->rules.size())},
       {"control", m->control && !m->control->path().empty() ? m->control->path() : std::string("none")},
       {"web", image->web ? image->web->address.to_string(true) : std::string("none")},
       {"console", m->console ? image->console->address.to_string(true) : std::string("none")}});

  // The listeners are bound and the workers read them: what a client sends
  // from now on is answered (an integration test checks it, test_systemd.py).
  m->serving_status = "serving " + join_addresses(image->listeners) + " from " + image->path;
  std::string notify_error;
  if (m->notifier.active() && !m->notifier.ready(m->serving_status, &notify_error)) {
    log(LogLevel::kWarning, "cannot tell systemd dnspc is ready", {{"reason", notify_error}});
  }

  // From here on the registry and the active policy hold what runs; a reload
  // frees this image with its policy.
  image.reset();
  uv_run(&m->loop, UV_RUN_DEFAULT);
  for (auto& w : m->workers) w->join();
  uint64_t timeouts = 0;
  for (unsigned w = 0; w < m->registry->worker_count(); ++w) timeouts += m->registry->worker(w).timeouts.get();
  m->workers.clear();
  uv_loop_close(&m->loop);
  log(LogLevel::kInfo, "stopped", {{"timeouts_total", timeouts}});
  return 0;
}

}  // namespace dnspc::runtime
