#include "dnspc/dynblock_spec.h"

#include <algorithm>

namespace dnspc {

const char* block_measure_name(BlockMeasure m) {
  switch (m) {
    case BlockMeasure::kQueries:
      return "queries";
    case BlockMeasure::kServfail:
      return "servfail";
    case BlockMeasure::kNxdomain:
      return "nxdomain";
    case BlockMeasure::kResponseBytes:
      return "bytes";
    case BlockMeasure::kQtype:
      return "qtype";
  }
  return "?";
}

bool BlockSpec::excludes(const NetAddress& address) const {
  return std::any_of(except.begin(), except.end(),
                     [&](const SourcePrefix& p) { return p.contains(address); });
}

bool BlockSpec::excludes(const SourcePrefix& prefix) const {
  NetAddress first;
  first.family = prefix.family;
  std::copy(prefix.bytes, prefix.bytes + 16, first.bytes);
  return std::any_of(except.begin(), except.end(), [&](const SourcePrefix& p) {
    return p.length <= prefix.length && p.contains(first);
  });
}

std::string BlockSpec::action_text() const {
  switch (action) {
    case BlockActionKind::kPool:
      return "pool " + pool_name;
    case BlockActionKind::kDrop:
      return "drop";
    case BlockActionKind::kRefuse:
      return "refuse";
    case BlockActionKind::kTruncate:
      return "truncate";
    case BlockActionKind::kNoRecurse:
      return "no_recurse";
  }
  return "?";
}

std::optional<Verdict> block_verdict(const BlockSpec& spec, uint32_t verdict_rule,
                                     Transport transport) {
  Verdict v;
  v.rule = verdict_rule;
  switch (spec.action) {
    case BlockActionKind::kPool:
      v.action = ActionKind::kPool;
      v.argument = spec.pool;
      break;
    case BlockActionKind::kDrop:
      v.action = ActionKind::kDrop;
      break;
    case BlockActionKind::kRefuse:
      v.action = ActionKind::kRefuse;
      break;
    case BlockActionKind::kTruncate:
      if (transport == Transport::kTcp) return std::nullopt;
      v.action = ActionKind::kTruncate;
      break;
    case BlockActionKind::kNoRecurse:
      v.action = ActionKind::kAllow;
      v.argument = spec.pool;
      v.modifiers = modifier_bits::kNoRecurse;
      break;
  }
  return v;
}

}  // namespace dnspc
