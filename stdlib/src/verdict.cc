#include "dnspc/verdict.h"

namespace dnspc {

const char* action_kind_name(ActionKind kind) {
  switch (kind) {
    case ActionKind::kPool: return "pool";
    case ActionKind::kDrop: return "drop";
    case ActionKind::kRefuse: return "refuse";
    case ActionKind::kRcode: return "rcode";
    case ActionKind::kTruncate: return "truncate";
    case ActionKind::kSpoof: return "spoof";
    case ActionKind::kAllow: return "allow";
    case ActionKind::kLua: return "lua";
  }
  return "unknown";
}

}  // namespace dnspc
