#include "reloader.h"

#include "kernel_path.h"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dnspc/runtime/log.h"
#include "dnspc/runtime/sockets.h"
#include "dnspc/utf8.h"

namespace dnspc::runtime {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

std::string now_utc() {
  char ts[32];
  format_timestamp(ts);
  return ts;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> server_keys(const Registry& r, const std::vector<uint32_t>& ids) {
  std::vector<std::string> out;
  for (uint32_t id : ids) out.push_back(r.server(id).key);
  return out;
}

bool contains(const std::vector<NetAddress>& v, const NetAddress& a) {
  return std::find(v.begin(), v.end(), a) != v.end();
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void json_string(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// Milliseconds to `places` decimals: finer figures only look precise.
void json_ms(JsonWriter& w, double ms, double places) {
  const double scale = std::pow(10.0, places);
  w.Double(std::round(ms * scale) / scale);
}

void json_times(JsonWriter& w, const char* key, const std::vector<std::pair<std::string, double>>& times) {
  w.Key(key);
  w.StartObject();
  for (const auto& [name, ms] : times) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    json_ms(w, ms, 1);
  }
  w.EndObject();
}

void json_list(JsonWriter& w, const char* key, const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const std::string& v : values) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

}  // namespace

std::string reload_json(const ReloadOutcome& o, const Registry* registry) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("ok");
  w.Bool(o.ok);
  json_string(w, "time", o.time);
  json_string(w, "policy", o.policy);
  json_string(w, "message", o.message);
  json_string(w, "diagnostics", o.diagnostics);
  w.Key("compile_ms");
  json_ms(w, o.compile_ms, 1);
  w.Key("swap_ms");
  json_ms(w, o.swap_ms, 2);
  json_times(w, "compile_phases_ms", o.compile_phases_ms);
  json_times(w, "main_steps_ms", o.main_steps_ms);
  w.Key("rules_added");
  w.Uint64(o.changes.rules_added);
  w.Key("rules_removed");
  w.Uint64(o.changes.rules_removed);
  w.Key("rules_changed");
  w.Uint64(o.changes.rules_changed);
  json_list(w, "pools_added", o.changes.pools_added);
  json_list(w, "pools_removed", o.changes.pools_removed);
  json_list(w, "servers_added",
            registry ? server_keys(*registry, o.changes.servers_added) : std::vector<std::string>{});
  json_list(w, "servers_removed",
            registry ? server_keys(*registry, o.changes.servers_removed) : std::vector<std::string>{});
  json_list(w, "not_reloadable", o.not_reloadable);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Reloader::Reloader(Parts parts) : parts_(std::move(parts)) {
  uv_async_init(parts_.loop, &wake_,
                [](uv_async_t* h) { static_cast<Reloader*>(h->data)->on_wake(); });
  wake_.data = this;
}

Reloader::~Reloader() {
  if (thread_.joinable()) thread_.join();
}

void Reloader::reload(std::string path, Done done) {
  if (stopped_ || !parts_.loader) {
    ReloadOutcome o;
    o.policy = path.empty() ? path_ : path;
    o.message = stopped_ ? "dnspc is stopping; the policy was not reloaded"
                         : "this instance cannot reload policies";
    o.time = now_utc();
    done(o);
    return;
  }
  queue_.push_back({std::move(path), std::move(done)});
  if (phase_ == Phase::kIdle) start_next();
}

void Reloader::refuse_new() {
  stopped_ = true;
  std::deque<Request> waiting;
  waiting.swap(queue_);
  for (Request& r : waiting) {
    ReloadOutcome o;
    o.policy = r.path.empty() ? path_ : r.path;
    o.message = "dnspc is stopping; the policy was not reloaded";
    o.time = now_utc();
    r.done(o);
  }
}

void Reloader::close() {
  refuse_new();
  cancel_.store(true, std::memory_order_relaxed);
  // A compilation in progress ends by signalling wake_: it must end before
  // the handle closes (signalling a closed handle, once its loop is closed
  // too, makes libuv abort the process).
  if (thread_.joinable()) thread_.join();
  releaser_.stop();
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  if (phase_ != Phase::kIdle && current_.done) {
    // Its result will never be handled (the handle is closed): say so now.
    ReloadOutcome o;
    o.policy = current_.path;
    o.message = "dnspc stopped before the reload ended; the policy was not reloaded";
    o.time = now_utc();
    Done done = std::move(current_.done);
    done(o);
  }
}

void Reloader::start_next() {
  if (queue_.empty() || stopped_) return;
  current_ = std::move(queue_.front());
  queue_.pop_front();
  if (current_.path.empty()) current_.path = path_;
  phase_ = Phase::kCompiling;
  started_ = std::chrono::steady_clock::now();
  compiled_.store(false, std::memory_order_relaxed);
  std::string error;
  // The running policy does not change while this thread runs (the next
  // swap waits for its result), nor do the registry's names (update() runs
  // on the main loop only after this thread has ended).
  const PolicyImage* running = (*parts_.active)->image.get();
  plan_ = RegistryPlan{};
  bool started = thread_.start(
      kCompileStackBytes,
      [this, path = current_.path, running] {
        releaser_.wait_idle();
        loaded_ = parts_.loader(path, cancel_);
        if (loaded_.image && !cancel_.load(std::memory_order_relaxed)) {
          const auto t = std::chrono::steady_clock::now();
          plan_ = parts_.registry->plan(*loaded_.image, running);
          loaded_.phases_ms.emplace_back("registry_plan", ms_since(t));
          // The workers' Lua states, off their loops; a file that does not
          // load rejects the reload and leaves the running policy as it is.
          const auto lua_start = std::chrono::steady_clock::now();
          std::string lua_error;
          if (!build_lua_states(*loaded_.image, static_cast<unsigned>(parts_.workers->size()), lua_states_,
                                lua_error)) {
            loaded_.leftovers = std::move(loaded_.image);
            loaded_.error = lua_error;
          } else if (!lua_states_.empty()) {
            loaded_.phases_ms.emplace_back("lua_states", ms_since(lua_start));
          }
        }
        compiled_.store(true, std::memory_order_release);
        uv_async_send(&wake_);
      },
      error);
  if (!started) {
    loaded_ = {};
    loaded_.error = "cannot start the compile thread: " + error;
    compiled_.store(true, std::memory_order_release);
    uv_async_send(&wake_);
  }
}

void Reloader::on_wake() {
  switch (phase_) {
    case Phase::kIdle:
      return;
    case Phase::kCompiling:
      if (compiled_.load(std::memory_order_acquire)) {
        thread_.join();
        releaser_.release(std::move(loaded_.leftovers));
        on_compiled();
      }
      return;
    case Phase::kPreparing:
      if (prepared_.load(std::memory_order_acquire) == parts_.workers->size()) on_prepared();
      return;
    case Phase::kSwapping:
      for (auto& w : *parts_.workers) {
        if (w->acknowledged() != next_.get() && !w->done()) return;
      }
      on_swapped();
      return;
  }
}

void Reloader::reject(std::string message) {
  releaser_.release(std::move(loaded_.image));
  lua_states_.clear();
  plan_ = RegistryPlan{};
  for (auto& fds : listener_fds_) {
    for (int fd : fds) ::close(fd);
  }
  listener_fds_.clear();
  ReloadOutcome o;
  o.policy = current_.path;
  o.message = std::move(message);
  o.diagnostics = std::move(loaded_.diagnostics);
  o.compile_ms = compile_ms_;
  finish(std::move(o));
}

void Reloader::on_compiled() {
  compile_ms_ = ms_since(started_);
  main_steps_ms_.clear();
  const auto step_start = std::chrono::steady_clock::now();
  std::shared_ptr<const PolicyImage> image = std::move(loaded_.image);
  // A rejected image goes to the release thread (reject()), not freed here.
  auto refuse = [&](std::string message) {
    releaser_.release(std::move(image));
    reject(std::move(message));
  };
  if (stopped_) {
    // Workers may have ended (their handles closed): nothing is posted to them.
    refuse("dnspc is stopping; the policy was not reloaded");
    return;
  }
  if (!image) {
    refuse(loaded_.error.empty() ? "the policy was rejected" : loaded_.error);
    return;
  }
  std::string problem = validate(*image);
  if (!problem.empty()) {
    refuse("cannot run the policy: " + problem);
    return;
  }
  if (!KernelPath::acceptable(*image, problem)) {
    refuse(problem);
    return;
  }
  const ActivePolicy& running = **parts_.active;
  const PolicyImage& prev = *running.image;

  // What a reload leaves alone, said rather than silently ignored.
  not_reloadable_.clear();
  if (image->options.workers != prev.options.workers) not_reloadable_.push_back("option workers");
  if (image->options.sockets_per_backend != parts_.sockets_per_backend) {
    not_reloadable_.push_back("option sockets_per_backend");
  }
  if (image->control_path != prev.control_path) not_reloadable_.push_back("control");
  // The web server keeps its address; its ACL and writes follow the policy.
  const std::optional<NetAddress> web = image->web ? std::optional(image->web->address) : std::nullopt;
  if (web != parts_.web_address) not_reloadable_.push_back("web");
  // The console keeps its address and key; its ACL follows the policy.
  const std::optional<NetAddress> console =
      image->console ? std::optional(image->console->address) : std::nullopt;
  if (console != parts_.console_address) not_reloadable_.push_back("console");
  const std::string key_file = image->console ? image->console->key_file : std::string();
  if (parts_.console_address && key_file != parts_.console_key_file) {
    not_reloadable_.push_back("option console_key_file");
  }
  if (image->options.ring_entries != prev.options.ring_entries) not_reloadable_.push_back("option ring_entries");

  // Listeners: only the added ones are opened (and must be free); the kept
  // ones are not touched.
  listeners_added_.clear();
  listeners_removed_.clear();
  for (const NetAddress& a : image->listeners) {
    if (!contains(prev.listeners, a)) listeners_added_.push_back(a);
  }
  for (const NetAddress& a : prev.listeners) {
    if (!contains(image->listeners, a)) listeners_removed_.push_back(a);
  }
  std::string error;
  listener_fds_.assign(parts_.workers->size(), {});
  const auto now = std::chrono::steady_clock::now();
  // As long as workers keep a removed listener (WorkerThread::change_listeners).
  const auto linger =
      std::chrono::nanoseconds(running.udp_timeout_ns) + std::chrono::nanoseconds(kMaxDelayNs) + std::chrono::seconds(2);
  std::erase_if(recently_removed_, [&](const auto& r) { return now - r.second > linger; });
  for (const NetAddress& a : listeners_added_) {
    auto recent = std::find_if(recently_removed_.begin(), recently_removed_.end(),
                               [&](const auto& r) { return r.first == a; });
    if (recent != recently_removed_.end()) {
      // Still held by the workers (closing): they take it back.
      for (auto& fds : listener_fds_) fds.push_back(-1);
      continue;
    }
    if (!address_free(a, error)) {
      refuse("cannot listen: " + error);
      return;
    }
    for (auto& fds : listener_fds_) {
      int fd = open_listener(a, error);
      if (fd < 0) {
        refuse("cannot listen: " + error);
        return;
      }
      fds.push_back(fd);
    }
  }

  changes_ = RegistryChanges{};
  if (!parts_.registry->update(*image, &prev, changes_, error, &plan_)) {
    refuse(error);
    return;
  }
  next_ = bind_policy(image, *parts_.registry, &running, &plan_);
  plan_ = RegistryPlan{};
  next_->lua = std::move(lua_states_);
  bind_lua_stats(next_->lua, *image, *parts_.registry);
  main_steps_ms_.emplace_back("bind", ms_since(step_start));

  phase_ = Phase::kPreparing;
  prepared_.store(0, std::memory_order_relaxed);
  prepare_error_.clear();
  ports_.assign(parts_.workers->size(), {});
  for (size_t i = 0; i < parts_.workers->size(); ++i) {
    WorkerThread* w = (*parts_.workers)[i].get();
    const ActivePolicy* next = next_.get();
    w->post([this, w, i, next] {
      std::string err;
      bool ok = w->prepare(*next, err);
      std::vector<std::vector<uint16_t>> ports;
      if (ok) {
        for (uint32_t id = 0; id < next->server_live.size(); ++id)
          ports.push_back(w->backend_ports(id));
      }
      {
        std::lock_guard<std::mutex> lock(prepare_mutex_);
        if (!ok && prepare_error_.empty()) prepare_error_ = err;
        ports_[i] = std::move(ports);
      }
      prepared_.fetch_add(1, std::memory_order_release);
      uv_async_send(&wake_);
    });
  }
}

void Reloader::on_prepared() {
  const auto step_start = std::chrono::steady_clock::now();
  std::string error;
  {
    std::lock_guard<std::mutex> lock(prepare_mutex_);
    error = prepare_error_;
  }
  if (!error.empty() || stopped_) {
    // Names and specs back to the running policy's (a server the failed one
    // added stays known, unused).
    RegistryChanges ignored;
    std::string ignored_error;
    (void)parts_.registry->update(*(*parts_.active)->image, nullptr, ignored, ignored_error);
    releaser_.release(std::shared_ptr<const void>(std::move(next_)));
    reject(stopped_ ? "dnspc is stopping; the policy was not reloaded"
                    : "cannot open the sockets the policy needs: " + error);
    return;
  }
  if (!listeners_added_.empty() || !listeners_removed_.empty()) {
    const uint64_t timeout_ns = next_->udp_timeout_ns;
    for (size_t i = 0; i < parts_.workers->size(); ++i) {
      WorkerThread* w = (*parts_.workers)[i].get();
      w->post([w, added = listeners_added_, fds = std::move(listener_fds_[i]),
               removed = listeners_removed_,
               timeout_ns] { w->change_listeners(added, fds, removed, timeout_ns); });
    }
    listener_fds_.clear();
    const auto now = std::chrono::steady_clock::now();
    for (const NetAddress& a : listeners_added_) {
      std::erase_if(recently_removed_, [&](const auto& r) { return r.first == a; });
    }
    for (const NetAddress& a : listeners_removed_) recently_removed_.emplace_back(a, now);
  }
  if (parts_.health && !parts_.health->sync(error)) {
    log(LogLevel::kWarning, "health checks", {{"reason", error}});
  }
  std::vector<std::vector<uint16_t>> ports(next_->server_live.size());
  for (auto& per_worker : ports_) {
    for (size_t id = 0; id < per_worker.size() && id < ports.size(); ++id) {
      ports[id].insert(ports[id].end(), per_worker[id].begin(), per_worker[id].end());
    }
  }
  if (parts_.on_published) parts_.on_published(next_.get(), std::move(ports));

  // The swap: publish, then wake every worker so idle ones move now too.
  phase_ = Phase::kSwapping;
  publish_at_ = std::chrono::steady_clock::now();
  // Dynamic blocks and their rings carry over by name. The old engine was
  // evaluated for the last time (on this thread) before now; from here the
  // evaluator reads the published policy's engine.
  const ActivePolicy& running = **parts_.active;
  if (next_->blocks && running.blocks) next_->blocks->carry_over_from(*running.blocks);
  if (parts_.kernel) parts_.kernel->swap(running, *next_);
  parts_.current->store(next_.get(), std::memory_order_release);
  for (auto& w : *parts_.workers) w->wake();
  main_steps_ms_.emplace_back("publish", ms_since(step_start));
  on_wake();
}

void Reloader::on_swapped() {
  const double swap_ms = ms_since(publish_at_);
  const auto step_start = std::chrono::steady_clock::now();
  std::unique_ptr<ActivePolicy> old = std::move(*parts_.active);
  carry_limiter_state(*old, *next_);
  *parts_.active = std::move(next_);
  // No worker can use it: its image, native code and tables go, on the
  // release thread.
  releaser_.release(std::shared_ptr<const void>(std::move(old)));
  main_steps_ms_.emplace_back("release", ms_since(step_start));
  path_ = current_.path;
  ReloadOutcome o;
  o.ok = true;
  o.policy = current_.path;
  o.diagnostics = std::move(loaded_.diagnostics);
  o.not_reloadable = not_reloadable_;
  o.changes = std::move(changes_);
  o.compile_ms = compile_ms_;
  o.compile_phases_ms = std::move(loaded_.phases_ms);
  o.main_steps_ms = std::move(main_steps_ms_);
  o.swap_ms = swap_ms;
  o.message = fmt::format("reloaded: rules +{} -{} ~{}, pools +{} -{}, servers +{} -{}",
                          o.changes.rules_added, o.changes.rules_removed, o.changes.rules_changed,
                          o.changes.pools_added.size(), o.changes.pools_removed.size(),
                          o.changes.servers_added.size(), o.changes.servers_removed.size());
  if (!o.not_reloadable.empty())
    o.message += "; not reloadable, left alone: " + join(o.not_reloadable);
  finish(std::move(o));
}

void Reloader::finish(ReloadOutcome o) {
  o.time = now_utc();
  // The message may quote a Lua error, which may quote anything; it goes
  // into JSON (`stats`, the web API), which must stay UTF-8. Diagnostics
  // are printable already (diag's renderers).
  o.message = printable_text(o.message);
  ++reloads_;
  if (!o.ok) ++failures_;
  if (o.ok) {
    log(LogLevel::kInfo, "reloaded",
        {{"policy", o.policy},
         {"rules_added", o.changes.rules_added},
         {"rules_removed", o.changes.rules_removed},
         {"rules_changed", o.changes.rules_changed},
         {"pools_added", join(o.changes.pools_added)},
         {"pools_removed", join(o.changes.pools_removed)},
         {"servers_added", join(server_keys(*parts_.registry, o.changes.servers_added))},
         {"servers_removed", join(server_keys(*parts_.registry, o.changes.servers_removed))},
         {"compile_ms", fmt::format("{:.1f}", o.compile_ms)},
         {"swap_ms", fmt::format("{:.2f}", o.swap_ms)},
         {"not_reloadable", join(o.not_reloadable)}});
  } else {
    // The diagnostics first, as `check` renders them, then one line.
    if (!o.diagnostics.empty()) std::fputs(o.diagnostics.c_str(), stderr);
    log(LogLevel::kError, "reload rejected; the running policy is unchanged",
        {{"policy", o.policy},
         {"reason", o.message},
         {"compile_ms", fmt::format("{:.1f}", o.compile_ms)}});
  }
  last_ = o;
  phase_ = Phase::kIdle;
  Done done = std::move(current_.done);
  current_ = Request{};
  if (done) done(o);
  start_next();
}

}  // namespace dnspc::runtime
