// What the control plane reads from the workers' rings (traffic_ring.h):
// top-N lists and grep over recent traffic, as JSON. Runs on the control
// thread; the workers keep writing meanwhile.
#pragma once

#include <string>
#include <string_view>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {

enum class TopKind { kQueries, kClients, kServfailNames, kServfailClients, kNxdomainNames, kSlow, kRcodes, kResponses };

struct TopRequest {
  TopKind kind = TopKind::kQueries;
  size_t n = 10;
  unsigned labels = 0;  // names grouped by their last K labels; 0: whole names
  uint8_t rcode = 0;    // kResponses: the names of answers with this rcode
};

// Parses "queries 20 --labels 2" (the words after `top`); empty on success,
// else the error.
std::string parse_top(std::string_view args, TopRequest& out);
std::string top_json(const Registry& registry, const ActivePolicy& policy, const TopRequest& request,
                     uint64_t now_ns);

// `grep PATTERN|NETMASK|rcode=RCODE [N]`: the newest matching records,
// newest first. A pattern matches query names (text form, `*` any run of
// characters, case-insensitive); a netmask matches clients.
std::string grep_json(const Registry& registry, const ActivePolicy& policy, std::string_view args,
                      uint64_t now_ns);

// A wire name as text (presentation format: `\DDD` for bytes that are not
// printable, `\.` for a dot inside a label); `labels` > 0 keeps the last ones.
std::string name_text(const uint8_t* wire, unsigned length, unsigned labels = 0);

}  // namespace dnspc::runtime
