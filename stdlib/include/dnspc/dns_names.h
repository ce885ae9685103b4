// Mnemonics for types, classes, rcodes and opcodes, both ways. Shared by the
// checker, `dnspc test`, logs and the console.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dnspc {

// "A", "AAAA", "ANY", ... and the generic "TYPE65" (RFC 3597); case-insensitive.
std::optional<uint16_t> qtype_from_name(std::string_view name);
std::string qtype_name(uint16_t type);

// "IN", "CH", "HS", "ANY", "CLASS3".
std::optional<uint16_t> qclass_from_name(std::string_view name);

// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", ... (0..15).
std::optional<uint8_t> rcode_from_name(std::string_view name);
std::string rcode_name(uint8_t rcode);

// "QUERY", "IQUERY", "STATUS", "NOTIFY", "UPDATE" (and "OPCODE7").
std::optional<uint8_t> opcode_from_name(std::string_view name);

// The mnemonics, for "did you mean" suggestions.
std::vector<std::string> qtype_mnemonics();
std::vector<std::string> rcode_mnemonics();

// EDNS option codes by name: "NSID", "ECS" (or "CLIENT_SUBNET"), "COOKIE", "PADDING", ...
std::optional<uint16_t> edns_option_from_name(std::string_view name);

}  // namespace dnspc
