// Hot reload, the worker's side (docs/runtime.md, "Hot reload"). The main
// thread prepares each worker for a new policy through post() before it
// publishes it (sockets toward added servers, larger tables), every worker
// swaps at its next batch (begin_batch) or when woken (on_command), stores
// the policy it now runs in `acknowledged_` and signals the main thread, which
// frees the old policy once every worker has moved. Nothing here runs per
// packet.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "dnspc/runtime/log.h"
#include "dnspc/runtime/sockets.h"
#include "worker.h"

namespace dnspc::runtime {

namespace {

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void poll_cb(uv_poll_t* handle, int status, int) {
  auto* ref = static_cast<PollRef*>(handle->data);
  if (status < 0) return;
  ref->worker->on_readable(*ref);
}

// A retired backend's sockets: their poll handles close asynchronously, then
// the descriptors, then this. The Backend itself gets fresh (empty) sockets,
// so a later reload that brings the server back opens new ones.
struct ClosingSockets {
  std::vector<int> fds;
  std::unique_ptr<uv_poll_t[]> polls;
  size_t open = 0;
};

void on_backend_poll_closed(uv_handle_t* h) {
  auto* c = static_cast<ClosingSockets*>(h->data);
  if (--c->open > 0) return;
  for (int fd : c->fds) ::close(fd);
  delete c;
}

void on_listener_poll_closed(uv_handle_t* h) {
  auto* ref = static_cast<PollRef*>(h->data);
  ref->worker->on_listener_closed(ref->index);
}

}  // namespace

void Worker::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    posted_.push_back(std::move(job));
  }
  uv_async_send(&command_);
}

void Worker::run_posted() {
  std::vector<std::function<void()>> jobs;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    jobs.swap(posted_);
  }
  for (auto& job : jobs) job();
}

bool Worker::prepare(const ActivePolicy& next, std::string& error) {
  const unsigned nsock = std::clamp(config_.sockets_per_backend, 1u, 64u);
  const uint32_t max_out = next.max_outstanding;
  if (backends_.size() < next.server_live.size()) {
    // Safe between batches: in-flight slots and poll refs hold ids, not pointers.
    backends_.resize(next.server_live.size());
  }
  uint64_t slots = 0;
  for (uint32_t id = 0; id < backends_.size(); ++id) {
    Backend& b = backends_[id];
    const bool live = id < next.server_live.size() && next.server_live[id];
    if (!live) continue;
    slots += max_out;
    if (b.retiring) {
      // Back before its sockets closed: keep them.
      b.retiring = false;
      retiring_.erase(std::remove(retiring_.begin(), retiring_.end(), id), retiring_.end());
    }
    if (!b.tx) {
      // A server this worker has never seen: the registry entry exists (update()
      // ran before this job was posted).
      bind_backend(b, id);
    }
    if (b.fds.empty()) {
      b.polls = std::make_unique<uv_poll_t[]>(nsock);
      b.refs = std::make_unique<PollRef[]>(nsock);
      b.ports.clear();
      for (unsigned s = 0; s < nsock; ++s) {
        uint16_t port = 0;
        int fd = open_backend_socket(b.address.family, error, &port);
        if (fd < 0) {
          error = "server " + b.entry->key + ": " + error;
          return false;
        }
        b.fds.push_back(fd);
        b.ports.push_back(port);
        b.refs[s] = {this, false, id, s};
        uv_poll_init(&loop_, &b.polls[s], fd);
        b.polls[s].data = &b.refs[s];
        uv_poll_start(&b.polls[s], UV_READABLE, poll_cb);
      }
    }
  }

  // In-flight slots and ID maps: grown when the new policy's servers and
  // bound need more (what is in flight keeps its slot index).
  in_flight_.reserve(static_cast<uint32_t>(backends_.size()), max_out, slots);

  if (uint32_t words = scratch_words_needed(next); words > state_.scratch_words) {
    scratch_.reset(new uint32_t[words]());
    state_.scratch = scratch_.get();
    state_.scratch_words = words;
  }
  // So neither the swap nor the packet path allocates for these.
  touched_.reserve(backends_.size());
  round_robin_.reserve(next.pools.size());
  return true;
}

void Worker::adopt_policy(const ActivePolicy* p) {
  held_.set_capacity(p->image->options.max_held_answers);  // reloadable
  // The old policy's block engine goes with it: its batch ends here.
  if (recorder_) {
    recorder_->end_batch();
    recorder_ = nullptr;
  }
  policy_ = p;
  if (p->kernel_ifindex) want_arrival_interface();
  bind_taps_for(*p);
  bind_lua_for(*p);
  // Per-pool positions follow the new pools (a pool's index may change; its
  // position is only a starting point).
  round_robin_.resize(p->pools.size(), 0);
  retime_tcp();  // TCP timeouts are reloadable: timers set under the old ones move
  for (uint32_t id = 0; id < backends_.size(); ++id) {
    Backend& b = backends_[id];
    const bool live = id < p->server_live.size() && p->server_live[id];
    if (!live && !b.fds.empty() && !b.retiring) {
      // No new queries go there; what is in flight finishes or times out.
      b.retiring = true;
      retiring_.push_back(id);
    }
  }
  acknowledged_.store(p, std::memory_order_release);
  if (swap_notify_) uv_async_send(swap_notify_);
}

void Worker::bind_lua_for(const ActivePolicy& p) {
  lua_ = config_.index < p.lua.size() ? p.lua[config_.index].get() : nullptr;
  if (lua_ == nullptr) {
    state_.lua_predicate = nullptr;
    state_.lua_context = nullptr;
    return;
  }
  size_t largest_pool = 0;
  for (const BoundPool& pool : p.pools) largest_pool = std::max(largest_pool, pool.lb.servers.size());
  lua_servers_.reserve(largest_pool);  // lua_pick() then never allocates
  const std::vector<uint32_t>& uses = p.image->lua.query_uses;
  lua_binding_ = {lua_, uses.data(), static_cast<uint32_t>(uses.size()), &state_.tags};
  state_.lua_predicate = lua::PredicateBinding::call;
  state_.lua_context = &lua_binding_;
}

void Worker::close_drained() {
  for (size_t i = 0; i < retiring_.size();) {
    Backend& b = backends_[retiring_[i]];
    if (b.outstanding > 0) {
      ++i;
      continue;
    }
    while (!b.tcp_conns.empty()) close_tcp_backend(*b.tcp_conns.back());  // nothing in flight on them
    auto* closing = new ClosingSockets;
    closing->fds = std::move(b.fds);
    closing->polls = std::move(b.polls);
    closing->open = closing->fds.size();
    b.fds.clear();
    b.ports.clear();
    b.retiring = false;
    for (size_t s = 0; s < closing->open; ++s) {
      closing->polls[s].data = closing;
      uv_close(reinterpret_cast<uv_handle_t*>(&closing->polls[s]), on_backend_poll_closed);
    }
    if (closing->open == 0) delete closing;
    retiring_[i] = retiring_.back();
    retiring_.pop_back();
  }
  if (closing_listeners_.empty()) return;
  const uint64_t now = monotonic_ns();
  for (size_t i = 0; i < closing_listeners_.size();) {
    if (closing_listeners_[i].close_at_ns > now) {
      ++i;
      continue;
    }
    Listener& l = listeners_[closing_listeners_[i].index];
    uv_close(reinterpret_cast<uv_handle_t*>(&l.poll), on_listener_poll_closed);
    closing_listeners_[i] = closing_listeners_.back();
    closing_listeners_.pop_back();
  }
}

void Worker::on_listener_closed(uint32_t index) {
  Listener& l = listeners_[index];
  if (l.fd >= 0) ::close(l.fd);
  l.fd = -1;  // free for a listener a later reload adds
}

void Worker::change_listeners(const std::vector<NetAddress>& added, const std::vector<int>& fds,
                              const std::vector<NetAddress>& removed, uint64_t udp_timeout_ns) {
  change_tcp_listeners(added, removed);
  const uint64_t now = monotonic_ns();
  for (const NetAddress& a : removed) {
    for (uint32_t i = 0; i < listeners_.size(); ++i) {
      Listener& l = listeners_[i];
      if (l.fd < 0 || !(l.address == a) || !uv_is_active(reinterpret_cast<uv_handle_t*>(&l.poll)))
        continue;
      // Stop reading now; answers to what it took still leave from it until
      // every such query has been answered or has timed out.
      uv_poll_stop(&l.poll);
      // Held answers (`delay`, at most 10 s) still leave from it too.
      closing_listeners_.push_back({i, now + udp_timeout_ns + kMaxDelayNs + 1'000'000'000ull});
    }
  }
  for (size_t k = 0; k < added.size(); ++k) {
    int fd = fds[k];
    if (fd < 0) {
      // Removed by a recent reload and not closed yet: read it again.
      auto closing = std::find_if(
          closing_listeners_.begin(), closing_listeners_.end(),
          [&](const ClosingListener& c) { return listeners_[c.index].address == added[k]; });
      if (closing != closing_listeners_.end()) {
        uv_poll_start(&listeners_[closing->index].poll, UV_READABLE, poll_cb);
        closing_listeners_.erase(closing);
        continue;
      }
      std::string error;
      fd = open_listener(added[k], error);  // closed meanwhile: open it anew
      if (fd < 0) {
        log(LogLevel::kError, "cannot listen",
            {{"listen", added[k].to_string(true)}, {"reason", error}});
        continue;
      }
    }
    // A free slot (a listener closed by an earlier reload), else a new one:
    // listeners_ has room for 255, so this never moves the others.
    uint32_t index = 0;
    while (index < listeners_.size() &&
           !(listeners_[index].fd < 0 &&
             uv_is_closing(reinterpret_cast<uv_handle_t*>(&listeners_[index].poll)))) {
      ++index;
    }
    if (index == listeners_.size()) {
      if (listeners_.size() == listeners_.capacity()) {
        ::close(fd);  // validate() allows 255 listeners; slots of closing ones are not free yet
        continue;
      }
      listeners_.emplace_back();
    }
    Listener& l = listeners_[index];
    l.address = added[k];
    l.fd = fd;
    if (!l.tx) l.tx = std::make_unique<TxQueue>();
    l.tx->count = 0;
    l.ref = {this, true, index, 0};
    uv_poll_init(&loop_, &l.poll, l.fd);
    l.poll.data = &l.ref;
    if (!draining_) uv_poll_start(&l.poll, UV_READABLE, poll_cb);
  }
}

}  // namespace dnspc::runtime
