#include "dnspc/runtime/tcp_admission.h"

namespace dnspc::runtime {

size_t TcpAdmission::KeyHash::operator()(const Key& k) const {
  uint64_t h = 1469598103934665603ull ^ k.family;
  for (uint8_t b : k.bytes) h = (h ^ b) * 1099511628211ull;
  return static_cast<size_t>(h);
}

TcpAdmission::Key TcpAdmission::key_of(const NetAddress& a) {
  Key k{};
  k.family = static_cast<uint8_t>(a.family);
  std::memcpy(k.bytes, a.bytes, a.byte_length());  // the port is not part of the client
  return k;
}

TcpAdmission::Verdict TcpAdmission::admit(const NetAddress& client, unsigned max_total, unsigned max_per_client) {
  Key k = key_of(client);
  std::lock_guard<std::mutex> lock(mutex_);
  if (total_ >= max_total) return Verdict::kTotalLimit;
  uint32_t& n = per_client_[k];
  if (n >= max_per_client) {
    if (n == 0) per_client_.erase(k);
    return Verdict::kClientLimit;
  }
  ++n;
  ++total_;
  return Verdict::kAdmitted;
}

void TcpAdmission::release(const NetAddress& client) {
  Key k = key_of(client);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = per_client_.find(k);
  if (it == per_client_.end()) return;
  if (--it->second == 0) per_client_.erase(it);
  --total_;
}

uint64_t TcpAdmission::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return total_;
}

}  // namespace dnspc::runtime
