#include "health.h"

#include <netinet/in.h>

#include <cstring>
#include <ctime>

#include "dnspc/dns_names.h"
#include "dnspc/runtime/log.h"
#include "dnspc/wire.h"

namespace dnspc::runtime {

namespace {

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool from_server(const sockaddr* sa, const NetAddress& server) {
  if (!sa) return false;
  NetAddress a = NetAddress::from_sockaddr(sa);
  return a == server;
}

}  // namespace

HealthChecker::HealthChecker(uv_loop_t* loop, Registry& registry) : loop_(loop), registry_(registry) {}

HealthChecker::~HealthChecker() = default;

bool HealthChecker::start(std::string& error) {
  for (uint32_t id = 0; id < registry_.server_count(); ++id) {
    ServerEntry& e = registry_.server(id);
    if (e.spec.mode != ServerMode::kAuto || !e.live) continue;  // forced: no checks
    if (!add_probe(id, error)) return false;
  }
  return true;
}

namespace {

bool same_check(const HealthCheckSpec& a, const HealthCheckSpec& b) {
  return a.qname == b.qname && a.qtype == b.qtype && a.interval_ms == b.interval_ms && a.timeout_ms == b.timeout_ms;
}

}  // namespace

bool HealthChecker::sync(std::string& error) {
  if (stopped_) return true;
  std::vector<bool> probed(registry_.server_count(), false);
  for (size_t i = 0; i < probes_.size();) {
    const ServerEntry& e = registry_.server(probes_[i]->server);
    if (e.live && e.spec.mode == ServerMode::kAuto && same_check(e.spec.check, probes_[i]->check)) {
      probed[probes_[i]->server] = true;
      ++i;
      continue;
    }
    close_probe(std::move(probes_[i]));
    probes_[i] = std::move(probes_.back());
    probes_.pop_back();
  }
  for (uint32_t id = 0; id < registry_.server_count(); ++id) {
    const ServerEntry& e = registry_.server(id);
    if (probed[id] || !e.live || e.spec.mode != ServerMode::kAuto) continue;
    if (!add_probe(id, error)) return false;
  }
  return true;
}

void HealthChecker::close_probe(std::unique_ptr<Probe> p) {
  Probe* raw = p.release();
  auto closed = [](uv_handle_t* h) {
    auto* pr = static_cast<Probe*>(h->data);
    if (--pr->open_handles == 0) delete pr;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&raw->socket), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&raw->interval), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&raw->timeout), closed);
}

bool HealthChecker::add_probe(uint32_t id, std::string& error) {
  {
    ServerEntry& e = registry_.server(id);
    auto p = std::make_unique<Probe>();
    p->owner = this;
    p->server = id;
    p->check = e.spec.check;
    // The probe: header (RD set), the check name and type, class IN.
    const HealthCheckSpec& c = e.spec.check;
    uint8_t* q = p->query;
    std::memset(q, 0, kHeaderSize);
    q[2] = 0x01;  // RD
    q[5] = 1;     // QDCOUNT
    size_t n = encode_name(c.qname, q + kHeaderSize, sizeof p->query - kHeaderSize - 4);
    if (n == 0) {
      error = "server " + e.key + ": bad check name '" + c.qname + "'";
      return false;
    }
    n += kHeaderSize;
    q[n++] = static_cast<uint8_t>(c.qtype >> 8);
    q[n++] = static_cast<uint8_t>(c.qtype);
    q[n++] = 0;
    q[n++] = 1;
    p->query_size = n;
    if (parse_query(p->query, p->query_size, Transport::kUdp, p->view) != ParseError::kOk) {
      error = "server " + e.key + ": cannot build its health check";
      return false;
    }
    uv_udp_init_ex(loop_, &p->socket, e.spec.address.is_v6() ? AF_INET6 : AF_INET);
    p->socket.data = p.get();
    uv_timer_init(loop_, &p->interval);
    p->interval.data = p.get();
    uv_timer_init(loop_, &p->timeout);
    p->timeout.data = p.get();
    sockaddr_storage any{};
    if (e.spec.address.is_v6()) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&any);
      s6->sin6_family = AF_INET6;
      s6->sin6_addr = in6addr_any;
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&any);
      s4->sin_family = AF_INET;
      s4->sin_addr.s_addr = htonl(INADDR_ANY);
    }
    int r = uv_udp_bind(&p->socket, reinterpret_cast<sockaddr*>(&any), 0);
    if (r == 0) {
      r = uv_udp_recv_start(
          &p->socket,
          [](uv_handle_t*, size_t, uv_buf_t* buf) {
            static char storage[4096];  // the main loop is single-threaded
            *buf = uv_buf_init(storage, sizeof storage);
          },
          [](uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr, unsigned) {
            if (nread <= 0 || !addr) return;
            auto* probe = static_cast<Probe*>(h->data);
            probe->owner->on_answer(*probe, reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread),
                                    addr);
          });
    }
    if (r != 0) {
      error = "server " + e.key + ": health-check socket: " + uv_strerror(r);
      probes_.push_back(std::move(p));  // closed by stop()
      return false;
    }
    // First probe now, then every interval.
    uv_timer_start(
        &p->interval, [](uv_timer_t* h) { auto* pr = static_cast<Probe*>(h->data); pr->owner->on_interval(*pr); }, 0,
        c.interval_ms ? c.interval_ms : 1000);
    probes_.push_back(std::move(p));
  }
  return true;
}

void HealthChecker::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& p : probes_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&p->socket), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->interval), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->timeout), nullptr);
  }
}

void HealthChecker::on_interval(Probe& p) {
  if (stopped_) return;
  ServerEntry& e = registry_.server(p.server);
  if (p.outstanding) {
    // The timeout is not shorter than the interval: the last probe counts as lost.
    p.outstanding = false;
    uv_timer_stop(&p.timeout);
    record(p, false, "timeout");
  }
  p.id = random_.u16();
  set_id(p.query, p.id);
  sockaddr_storage ss{};
  e.spec.address.to_sockaddr(ss);
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(p.query), static_cast<unsigned>(p.query_size));
  p.sent_ns = monotonic_ns();
  p.outstanding = true;
  e.checks.add();
  int r = uv_udp_try_send(&p.socket, &buf, 1, reinterpret_cast<sockaddr*>(&ss));
  if (r < 0) {
    p.outstanding = false;
    record(p, false, std::string("send: ") + uv_strerror(r));
    return;
  }
  uint64_t t = e.spec.check.timeout_ms ? e.spec.check.timeout_ms : 1000;
  uv_timer_start(&p.timeout, [](uv_timer_t* h) { auto* pr = static_cast<Probe*>(h->data); pr->owner->on_timeout(*pr); },
                 t, 0);
}

void HealthChecker::on_timeout(Probe& p) {
  if (stopped_ || !p.outstanding) return;
  p.outstanding = false;
  record(p, false, "timeout");
}

void HealthChecker::on_answer(Probe& p, const uint8_t* data, size_t size, const sockaddr* from) {
  if (stopped_ || !p.outstanding) return;
  ServerEntry& e = registry_.server(p.server);
  if (!from_server(from, e.spec.address)) return;
  if (!answer_matches(data, size, p.id, p.view)) return;  // not the answer to this probe
  p.outstanding = false;
  uv_timer_stop(&p.timeout);
  e.last_check_rtt_us.set((monotonic_ns() - p.sent_ns) / 1000);
  uint8_t rc = data[3] & 0x0f;
  if (e.spec.check.healthy_rcodes & (1u << rc)) {
    record(p, true, "");
  } else {
    record(p, false, "rcode " + rcode_name(rc));
  }
}

void HealthChecker::record(Probe& p, bool success, const std::string& why) {
  ServerEntry& e = registry_.server(p.server);
  const HealthCheckSpec& c = e.spec.check;
  // A server an operator forced is still checked (its figures stay live),
  // but only what the checks say changes, not its `up` (ServerEntry::force).
  bool up = e.health_up();
  const char* forced = e.forced == ServerMode::kUp ? "up" : e.forced == ServerMode::kDown ? "down" : nullptr;
  if (success) {
    e.consecutive_failures.set(0);
    e.consecutive_successes.add();
    if (!up && e.consecutive_successes.get() >= c.up_after) {
      e.set_health_up(true);
      e.state_changes.add();
      if (forced) {
        log(LogLevel::kInfo, "server up by its checks; forced state kept",
            {{"server", e.key}, {"successes", e.consecutive_successes.get()}, {"forced", forced}});
      } else {
        log(LogLevel::kInfo, "server up", {{"server", e.key}, {"successes", e.consecutive_successes.get()}});
      }
    }
  } else {
    e.check_failures.add();
    e.last_failure = why;
    e.consecutive_successes.set(0);
    e.consecutive_failures.add();
    if (up && e.consecutive_failures.get() >= c.down_after) {
      e.set_health_up(false);
      e.state_changes.add();
      if (forced) {
        log(LogLevel::kWarning, "server down by its checks; forced state kept",
            {{"server", e.key}, {"failures", e.consecutive_failures.get()}, {"reason", why}, {"forced", forced}});
      } else {
        log(LogLevel::kWarning, "server down",
            {{"server", e.key}, {"failures", e.consecutive_failures.get()}, {"reason", why}});
      }
    }
  }
}

}  // namespace dnspc::runtime
