// Programs in words, for `dnspc explain` and test failure messages.
#pragma once

#include <string>

#include "dnspc/ir/program.h"

namespace dnspc::ir {

// "qname suffix example.org.", "src in {10.0.0.0/8, +2 more}", "qps > 100 per src/24/56".
std::string describe_test(const Program& program, uint32_t test);
// The rule's condition in evaluation order, with and/or/not and parentheses.
std::string describe_condition(const Program& program, uint32_t node);
// "pool main", "rcode NXDOMAIN", "spoof (2 records, ttl 300)", with modifiers first.
std::string describe_action(const Program& program, uint32_t rule);
// A wire-form name as text ("www.example.com.").
std::string wire_to_text(const std::string& wire);

}  // namespace dnspc::ir
