// What `dnspc ctl blocks` shows: the blocks in force and the hits per block.
#include <algorithm>
#include <cstdio>

#include "dnspc/dynblock_engine.h"

namespace dnspc {

namespace {

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += esc;
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

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

std::string BlockEngine::list_json(uint64_t now_ns) const {
  std::string out = "{\"blocks\": [";
  bool first = true;
  for (const BlockListing& l : list()) {
    out += first ? "" : ", ";
    first = false;
    out += "{\"prefix\": ";
    append_json_string(out, l.prefix);
    out += ", \"block\": ";
    append_json_string(out, l.block);
    out += ", \"reason\": ";
    append_json_string(out, l.reason);
    out += ", \"action\": ";
    append_json_string(out, l.action);
    const uint64_t left_ms = l.expiry_ns > now_ns ? (l.expiry_ns - now_ns) / 1'000'000 : 0;
    out += ", \"expires_in_ms\": " + std::to_string(left_ms) +
           ", \"hits\": " + std::to_string(l.hits) + "}";
  }
  out += "], \"totals\": [";
  for (uint32_t b = 0; b < specs_.size(); ++b) {
    out += b ? ", " : "";
    out += "{\"block\": ";
    append_json_string(out, specs_[b].name);
    out += ", \"active\": " + std::to_string(active_[b].size()) +
           ", \"hits\": " + std::to_string(block_hits(b)) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace dnspc
