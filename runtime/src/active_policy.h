// A policy image bound to the registry: what a worker reads through the swap
// point. Immutable once built; workers load the pointer once per batch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnspc/prefix_index.h"
#include "dnspc/runtime/policy_image.h"
#include "dnspc/wire.h"
#include "lb.h"
#include "registry.h"

namespace dnspc::runtime {

struct BoundPool {
  std::string name;
  LbPool lb;
  bool servfail_on_no_server = false;
};

struct ActivePolicy {
  std::shared_ptr<const PolicyImage> image;
  Decider decide;
  std::vector<BoundPool> pools;
  std::vector<uint32_t> rule_ids;  // image rule index -> registry rule id
  std::vector<uint32_t> tag_ids;   // image tag bit -> registry tag id
  // Spoof sets as codec records; their data points into `image`.
  std::vector<std::vector<SpoofRecord>> spoof;
  PrefixIndex acl;
  bool acl_drop = false;
  bool timeout_servfail = false;
  uint64_t udp_timeout_ns = 2'000'000'000;
  unsigned max_outstanding = 10'000;
  RateLimiter* limiters = nullptr;
  SourceRateTable* const* source_tables = nullptr;
};

std::unique_ptr<ActivePolicy> bind_policy(std::shared_ptr<const PolicyImage> image, Registry& registry);

// True when the ACL holds `address`.
bool acl_allows(const ActivePolicy& p, const NetAddress& address);

}  // namespace dnspc::runtime
