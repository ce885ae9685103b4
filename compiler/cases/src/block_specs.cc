#include "dnspc/cases/block_specs.h"

namespace dnspc::cases {

namespace {

BlockMeasure measure_of(sema::Measure m) {
  switch (m) {
    case sema::Measure::kQueries:
      return BlockMeasure::kQueries;
    case sema::Measure::kServfail:
      return BlockMeasure::kServfail;
    case sema::Measure::kNxdomain:
      return BlockMeasure::kNxdomain;
    case sema::Measure::kResponseBytes:
      return BlockMeasure::kResponseBytes;
    case sema::Measure::kQtype:
      return BlockMeasure::kQtype;
  }
  return BlockMeasure::kQueries;
}

BlockActionKind action_of(sema::BlockAction a) {
  switch (a) {
    case sema::BlockAction::kPool:
      return BlockActionKind::kPool;
    case sema::BlockAction::kDrop:
      return BlockActionKind::kDrop;
    case sema::BlockAction::kRefuse:
      return BlockActionKind::kRefuse;
    case sema::BlockAction::kTruncate:
      return BlockActionKind::kTruncate;
    case sema::BlockAction::kNoRecurse:
      return BlockActionKind::kNoRecurse;
  }
  return BlockActionKind::kDrop;
}

}  // namespace

std::vector<BlockSpec> block_specs(const sema::Model& model) {
  std::vector<BlockSpec> out;
  for (const sema::DynBlock& d : model.dynblocks) {
    BlockSpec s;
    s.name = d.name;
    s.measure = measure_of(d.measure);
    s.qtype = d.qtype;
    s.bound_per_second = d.bound_per_second;
    s.v4_prefix = d.v4_prefix;
    s.v6_prefix = d.v6_prefix;
    s.window_seconds = static_cast<uint32_t>(d.window_ms / 1000);
    s.action = action_of(d.action);
    int pool = d.action == sema::BlockAction::kPool ? d.pool : model.default_pool;
    if (pool >= 0 && static_cast<size_t>(pool) < model.pools.size()) {
      s.pool = static_cast<uint16_t>(pool);
      s.pool_name = model.pools[static_cast<size_t>(pool)].name;
    }
    s.duration_ns = d.duration_ms * 1'000'000ull;
    for (const sema::Prefix& p : d.except)
      s.except.push_back(SourcePrefix::of(p.address, p.length, p.length));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace dnspc::cases
