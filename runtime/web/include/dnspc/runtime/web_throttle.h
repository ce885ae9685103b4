// The limits on slow credential checks (docs/web.md, "Rate limits"): each
// check of a password or a new API key costs about 100 ms of a thread and
// 64 MiB, so bad logins must not be able to queue them up. At most
// `in_flight` checks run at once, at most `per_second` start in any second,
// and a client whose check failed waits `failure_pause_ms` before its next.
// What is turned away gets 429 with Retry-After; nothing waits in a queue.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "dnspc/net_address.h"

namespace dnspc::runtime {

class AuthThrottle {
 public:
  struct Limits {
    unsigned in_flight = 2;
    unsigned per_second = 4;  // at most 8
    uint64_t failure_pause_ms = 1000;
  };
  enum class Verdict { kGo, kBusy, kTooFast, kClientPaused };

  AuthThrottle() = default;
  explicit AuthThrottle(Limits limits) : limits_(limits) {}

  // kGo: the check may start, and counts as running until finished().
  Verdict admit(const NetAddress& client, uint64_t now_ms);
  void finished(const NetAddress& client, bool ok, uint64_t now_ms);

  unsigned running() const { return running_; }
  // Clients still paused after a failure (bounded by per_second x the pause).
  size_t paused_clients() const { return paused_until_.size(); }

 private:
  static std::string key(const NetAddress& a);
  void forget_expired(uint64_t now_ms);

  Limits limits_;
  unsigned running_ = 0;
  std::array<uint64_t, 8> starts_{};  // the last per_second start times, a ring
  size_t next_start_ = 0;
  uint64_t started_ = 0;
  std::unordered_map<std::string, uint64_t> paused_until_;  // client address -> ms
};

}  // namespace dnspc::runtime
