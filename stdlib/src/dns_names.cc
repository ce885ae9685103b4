#include "dnspc/dns_names.h"

#include <charconv>
#include <strings.h>

namespace dnspc {

namespace {

template <typename T>
struct Mnemonic {
  const char* name;
  T value;
};

constexpr Mnemonic<uint16_t> kTypes[] = {
    {"A", 1},        {"NS", 2},        {"CNAME", 5},    {"SOA", 6},      {"PTR", 12},
    {"HINFO", 13},   {"MX", 15},       {"TXT", 16},     {"RP", 17},      {"AFSDB", 18},
    {"SIG", 24},     {"KEY", 25},      {"AAAA", 28},    {"LOC", 29},     {"SRV", 33},
    {"NAPTR", 35},   {"KX", 36},       {"CERT", 37},    {"DNAME", 39},   {"OPT", 41},
    {"APL", 42},     {"DS", 43},       {"SSHFP", 44},   {"IPSECKEY", 45}, {"RRSIG", 46},
    {"NSEC", 47},    {"DNSKEY", 48},   {"DHCID", 49},   {"NSEC3", 50},   {"NSEC3PARAM", 51},
    {"TLSA", 52},    {"SMIMEA", 53},   {"HIP", 55},     {"CDS", 59},     {"CDNSKEY", 60},
    {"OPENPGPKEY", 61}, {"CSYNC", 62}, {"ZONEMD", 63},  {"SVCB", 64},    {"HTTPS", 65},
    {"SPF", 99},     {"TKEY", 249},    {"TSIG", 250},   {"IXFR", 251},   {"AXFR", 252},
    {"ANY", 255},    {"URI", 256},     {"CAA", 257},
};

constexpr Mnemonic<uint16_t> kClasses[] = {{"IN", 1}, {"CH", 3}, {"HS", 4}, {"NONE", 254}, {"ANY", 255}};

constexpr Mnemonic<uint8_t> kRcodes[] = {
    {"NOERROR", 0}, {"FORMERR", 1}, {"SERVFAIL", 2}, {"NXDOMAIN", 3}, {"NOTIMP", 4},
    {"REFUSED", 5}, {"YXDOMAIN", 6}, {"YXRRSET", 7},  {"NXRRSET", 8},  {"NOTAUTH", 9},
    {"NOTZONE", 10},
};

constexpr Mnemonic<uint8_t> kOpcodes[] = {
    {"QUERY", 0}, {"IQUERY", 1}, {"STATUS", 2}, {"NOTIFY", 4}, {"UPDATE", 5}, {"DSO", 6}};

constexpr Mnemonic<uint16_t> kEdnsOptions[] = {
    {"LLQ", 1},  {"NSID", 3}, {"DAU", 5},          {"DHU", 6},        {"N3U", 7},
    {"ECS", 8},  {"CLIENT_SUBNET", 8}, {"EXPIRE", 9}, {"COOKIE", 10}, {"KEEPALIVE", 11},
    {"PADDING", 12}, {"CHAIN", 13}, {"KEY_TAG", 14}, {"EDE", 15},
};

template <typename T, size_t N>
std::optional<T> lookup(const Mnemonic<T> (&table)[N], std::string_view name) {
  for (const auto& m : table) {
    if (name.size() == std::char_traits<char>::length(m.name) &&
        strncasecmp(name.data(), m.name, name.size()) == 0) {
      return m.value;
    }
  }
  return std::nullopt;
}

// "TYPE65", "CLASS3", "OPCODE7": the generic form with a decimal number.
std::optional<unsigned> generic(std::string_view name, std::string_view prefix, unsigned max) {
  if (name.size() <= prefix.size() || strncasecmp(name.data(), prefix.data(), prefix.size()) != 0) {
    return std::nullopt;
  }
  unsigned v = 0;
  auto digits = name.substr(prefix.size());
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size() || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint16_t> qtype_from_name(std::string_view name) {
  if (auto v = lookup(kTypes, name)) return v;
  if (auto g = generic(name, "TYPE", 65535)) return static_cast<uint16_t>(*g);
  return std::nullopt;
}

std::string qtype_name(uint16_t type) {
  for (const auto& m : kTypes) {
    if (m.value == type) return m.name;
  }
  return "TYPE" + std::to_string(type);
}

std::optional<uint16_t> qclass_from_name(std::string_view name) {
  if (auto v = lookup(kClasses, name)) return v;
  if (auto g = generic(name, "CLASS", 65535)) return static_cast<uint16_t>(*g);
  return std::nullopt;
}

std::optional<uint8_t> rcode_from_name(std::string_view name) {
  if (auto v = lookup(kRcodes, name)) return v;
  if (auto g = generic(name, "RCODE", 15)) return static_cast<uint8_t>(*g);
  return std::nullopt;
}

std::string rcode_name(uint8_t rcode) {
  for (const auto& m : kRcodes) {
    if (m.value == rcode) return m.name;
  }
  return "RCODE" + std::to_string(rcode);
}

std::optional<uint8_t> opcode_from_name(std::string_view name) {
  if (auto v = lookup(kOpcodes, name)) return v;
  if (auto g = generic(name, "OPCODE", 15)) return static_cast<uint8_t>(*g);
  return std::nullopt;
}

std::vector<std::string> qtype_mnemonics() {
  std::vector<std::string> out;
  for (const auto& m : kTypes) out.push_back(m.name);
  return out;
}

std::vector<std::string> rcode_mnemonics() {
  std::vector<std::string> out;
  for (const auto& m : kRcodes) out.push_back(m.name);
  return out;
}

std::optional<uint16_t> edns_option_from_name(std::string_view name) {
  return lookup(kEdnsOptions, name);
}

}  // namespace dnspc
