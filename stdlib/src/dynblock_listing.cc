// What `dnspc ctl blocks` shows: the blocks in force and the hits per block
// (as data: the control plane writes the JSON).
#include <algorithm>

#include "dnspc/dynblock_engine.h"

namespace dnspc {

std::vector<BlockListing> BlockEngine::list() const {
  std::vector<BlockListing> out;
  for (uint32_t b = 0; b < specs_.size(); ++b) {
    const size_t first = out.size();
    for (const auto& [prefix, block] : active_[b]) {
      out.push_back({prefix.to_string(), specs_[b].name, block->reason, specs_[b].action_text(),
                     block->since_ns, block->expiry_ns, block->total_hits(workers())});
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
              [](const BlockListing& x, const BlockListing& y) { return x.prefix < y.prefix; });
  }
  return out;
}

std::vector<BlockTotal> BlockEngine::totals() const {
  std::vector<BlockTotal> out;
  for (uint32_t b = 0; b < specs_.size(); ++b) out.push_back({specs_[b].name, active_[b].size(), block_hits(b)});
  return out;
}

}  // namespace dnspc
