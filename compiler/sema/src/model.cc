#include "dnspc/sema/model.h"

namespace dnspc::sema {

int Model::find_pool(const std::string& name) const {
  for (size_t i = 0; i < pools.size(); ++i) {
    if (pools[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Model::find_set(const std::string& name) const {
  for (size_t i = 0; i < sets.size(); ++i) {
    if (sets[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const char* xdp_mode_name(XdpMode m) {
  return m == XdpMode::kGeneric ? "generic" : "native";
}

const char* lb_policy_name(LbPolicy p) {
  switch (p) {
    case LbPolicy::kRoundRobin: return "round_robin";
    case LbPolicy::kLeastOutstanding: return "least_outstanding";
    case LbPolicy::kFirstAvailable: return "first_available";
    case LbPolicy::kWeightedRandom: return "weighted_random";
    case LbPolicy::kHashed: return "hashed";
    case LbPolicy::kConsistentHash: return "consistent_hash";
    case LbPolicy::kLua: return "lua";
  }
  return "?";
}

const char* terminal_name(Terminal t) {
  switch (t) {
    case Terminal::kPool: return "pool";
    case Terminal::kDrop: return "drop";
    case Terminal::kRefuse: return "refuse";
    case Terminal::kRcode: return "rcode";
    case Terminal::kTruncate: return "truncate";
    case Terminal::kSpoof: return "spoof";
    case Terminal::kAllow: return "allow";
    case Terminal::kLua: return "lua";
  }
  return "?";
}

}  // namespace dnspc::sema
