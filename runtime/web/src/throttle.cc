// AuthThrottle: three cheap checks before a slow one.
#include "dnspc/runtime/web_throttle.h"

#include <algorithm>

namespace dnspc::runtime {

std::string AuthThrottle::key(const NetAddress& a) {
  return std::string(reinterpret_cast<const char*>(a.bytes), a.byte_length());
}

void AuthThrottle::forget_expired(uint64_t now_ms) {
  std::erase_if(paused_until_, [now_ms](const auto& e) { return e.second <= now_ms; });
}

AuthThrottle::Verdict AuthThrottle::admit(const NetAddress& client, uint64_t now_ms) {
  forget_expired(now_ms);
  if (paused_until_.count(key(client))) return Verdict::kClientPaused;
  if (running_ >= limits_.in_flight) return Verdict::kBusy;
  const size_t window = std::clamp<size_t>(limits_.per_second, 1, starts_.size());
  // The start `window` starts ago must be a second old or more.
  if (started_ >= window) {
    const uint64_t oldest = starts_[(next_start_ + starts_.size() - window) % starts_.size()];
    if (now_ms < oldest + 1000) return Verdict::kTooFast;
  }
  starts_[next_start_] = now_ms;
  next_start_ = (next_start_ + 1) % starts_.size();
  ++started_;
  ++running_;
  return Verdict::kGo;
}

void AuthThrottle::finished(const NetAddress& client, bool ok, uint64_t now_ms) {
  if (running_ > 0) --running_;
  if (!ok) paused_until_[key(client)] = now_ms + limits_.failure_pause_ms;
}

}  // namespace dnspc::runtime
