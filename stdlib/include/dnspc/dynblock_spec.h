// A dynamic block as plain data (docs/dynblocks.md): what to count, per which
// source prefix, the bound, and what a client over it gets for how long.
// Built from the checked policy by whoever owns one (the case runner, the
// runtime); the engine (dynblock_engine.h) needs nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnspc/query_view.h"
#include "dnspc/source_prefix.h"
#include "dnspc/verdict.h"

namespace dnspc {

enum class BlockMeasure : uint8_t { kQueries, kServfail, kNxdomain, kResponseBytes, kQtype };
enum class BlockActionKind : uint8_t { kPool, kDrop, kRefuse, kTruncate, kNoRecurse };

const char* block_measure_name(BlockMeasure m);  // "queries", "servfail", ... as in the language

struct BlockSpec {
  std::string name;
  BlockMeasure measure = BlockMeasure::kQueries;
  uint16_t qtype = 0;  // kQtype
  double bound_per_second = 0;
  uint8_t v4_prefix = 32, v6_prefix = 64;
  uint32_t window_seconds = 1;
  BlockActionKind action = BlockActionKind::kDrop;
  // kPool: the pool blocked clients go to. kNoRecurse: the policy's default
  // pool, where their queries go with RD cleared (the rules are skipped, as
  // dnsdist does).
  uint16_t pool = 0;
  std::string pool_name;  // for listings
  uint64_t duration_ns = 0;
  std::vector<SourcePrefix> except;  // never blocked

  bool excludes(const NetAddress& address) const;
  bool excludes(const SourcePrefix& prefix) const;  // the whole prefix lies in an exception
  std::string action_text() const;                  // "pool abuse", "drop", "no_recurse", ...
};

// The verdict a blocked query gets: rule index `verdict_rule` (the caller's
// numbering: the runtime and dnspc test use rule count + block index, so
// blocks sit past the rule list), the block's action. A `truncate` block does
// not apply over TCP, like a `truncate` rule: nullopt, and the rules decide.
std::optional<Verdict> block_verdict(const BlockSpec& spec, uint32_t verdict_rule,
                                     Transport transport);

}  // namespace dnspc
