// Helpers every analysis topic uses: names, prefixes, mnemonics, references.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "analyzer.h"
#include "dnspc/dns_names.h"
#include "dnspc/wire.h"

namespace dnspc::sema {

std::optional<std::string> Analyzer::dns_name(const std::string& text, diag::SourceRange range) {
  if (text.empty()) {
    diags_.error("bad-name", range, "empty name; write \".\" for the root");
    return std::nullopt;
  }
  uint8_t wire[256];
  if (encode_name(text, wire, sizeof wire) == 0) {
    diags_.error("bad-name", range,
                 fmt::format("'{}' is not a valid DNS name: labels are 1 to 63 bytes and the "
                             "whole name at most 253 characters",
                             text));
    return std::nullopt;
  }
  std::string out = text;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out != "." && out.back() != '.') out += '.';
  return out;
}

std::optional<Prefix> Analyzer::prefix(const ast::Netmask& n) {
  if (n.address.family == AddressFamily::kNone) return std::nullopt;  // reported by the parser
  Prefix p;
  p.address = n.address;
  p.address.port = 0;
  p.range = n.range;
  unsigned max = n.address.is_v6() ? 128 : 32;
  p.length = static_cast<uint8_t>(n.prefix < 0 ? max : n.prefix);
  // Host bits set under the mask are almost always a typo (10.1.2.3/8).
  bool host_bits = false;
  for (unsigned bit = p.length; bit < max; ++bit) {
    uint8_t& byte = p.address.bytes[bit / 8];
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if (byte & mask) host_bits = true;
    byte &= static_cast<uint8_t>(~mask);
  }
  if (host_bits) {
    diags_.warning("host-bits", n.range,
                   fmt::format("netmask has host bits set; it means {}/{}",
                               p.address.to_string(false), p.length));
  }
  return p;
}

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::optional<uint16_t> Analyzer::qtype(const std::string& name, diag::SourceRange range) {
  if (auto t = qtype_from_name(name)) return t;
  std::string guess = diag::closest_match(upper(name), qtype_mnemonics());
  diags_.error("unknown-qtype", range,
               guess.empty() ? fmt::format("unknown query type '{}'; use a mnemonic like AAAA or the "
                                           "generic form TYPE65",
                                           name)
                             : fmt::format("unknown query type '{}'; did you mean '{}'?", name, guess));
  return std::nullopt;
}

std::optional<uint8_t> Analyzer::rcode(const std::string& name, diag::SourceRange range) {
  if (auto r = rcode_from_name(name)) return r;
  std::string guess = diag::closest_match(upper(name), rcode_mnemonics());
  auto& d = diags_.error("unknown-rcode", range,
                         guess.empty() ? fmt::format("unknown rcode '{}'", name)
                                       : fmt::format("unknown rcode '{}'; did you mean '{}'?", name, guess));
  if (guess.empty()) {
    d.notes.push_back({{}, "known rcodes: NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, "
                           "YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, NOTZONE, or RCODE0..RCODE15"});
  }
  return std::nullopt;
}

int Analyzer::pool_ref(const ast::Name& name) {
  int index = model_.find_pool(name.text);
  if (index >= 0) return index;
  std::vector<std::string> names;
  for (const Pool& p : model_.pools) names.push_back(p.name);
  unknown("unknown-pool", "pool", name, names);
  return -1;
}

int Analyzer::tag_index(const std::string& tag) {
  auto it = std::find(model_.tags.begin(), model_.tags.end(), tag);
  if (it != model_.tags.end()) return static_cast<int>(it - model_.tags.begin());
  model_.tags.push_back(tag);
  return static_cast<int>(model_.tags.size() - 1);
}

bool Analyzer::in_range(const ast::Value& v, int64_t lo, int64_t hi, const char* what) {
  if (v.invalid) return false;  // reported by the parser
  if (v.kind != ast::Value::Kind::kInt) {
    diags_.error("bad-value", v.range,
                 fmt::format("{} must be an integer, not {}", what, ast::value_kind_name(v.kind)));
    return false;
  }
  if (v.integer < lo || v.integer > hi) {
    diags_.error("out-of-range", v.range,
                 fmt::format("{} {} is out of range; use {} to {}", what, v.integer, lo, hi));
    return false;
  }
  return true;
}

void Analyzer::unknown(const char* code, const char* what, const ast::Name& name,
                       const std::vector<std::string>& candidates) {
  std::string guess = diag::closest_match(name.text, candidates);
  if (!guess.empty()) {
    diags_.error(code, name.range, fmt::format("unknown {} '{}'; did you mean '{}'?", what, name.text, guess));
  } else {
    diags_.error(code, name.range, fmt::format("unknown {} '{}'", what, name.text));
  }
}

std::string Analyzer::resolve_path(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(config_.base_dir) / p).lexically_normal().string();
}

}  // namespace dnspc::sema
