// Who may open another TCP connection: the limits on connections in total
// and per client address, shared by every worker. Taken once when a
// connection is accepted and once when it closes (not per query), so a short
// lock is fine here; the query path never touches it.
#pragma once

#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "dnspc/net_address.h"

namespace dnspc::runtime {

class TcpAdmission {
 public:
  enum class Verdict { kAdmitted, kTotalLimit, kClientLimit };

  Verdict admit(const NetAddress& client, unsigned max_total, unsigned max_per_client);
  void release(const NetAddress& client);
  uint64_t current() const;

 private:
  struct Key {
    uint8_t family;
    uint8_t bytes[16];
    friend bool operator==(const Key& a, const Key& b) {
      return a.family == b.family && std::memcmp(a.bytes, b.bytes, sizeof a.bytes) == 0;
    }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  static Key key_of(const NetAddress& a);

  mutable std::mutex mutex_;
  uint64_t total_ = 0;
  std::unordered_map<Key, uint32_t, KeyHash> per_client_;
};

}  // namespace dnspc::runtime
