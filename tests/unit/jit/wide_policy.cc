#include "wide_policy.h"

#include "random_policy.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>

namespace dnspc::testing {

namespace {

const char* const kLabels[] = {"a", "b", "www", "mail", "x1", "evil", "ns", "q"};
const char* const kZones[] = {"example.",   "example.com.", "test.",
                              "b.example.", "a.b.example.", "x1.org."};
constexpr int kLabelCount = 8, kZoneCount = 6;
const char* const kTypes[] = {"A",      "AAAA",   "TXT",     "ANY", "MX",
                              "DNSKEY", "TYPE65", "TYPE300", "CAA", "TYPE65535"};
constexpr int kTypeCount = 10;
const uint16_t kQueryTypes[] = {1, 28, 16, 255, 15, 48, 65, 300, 257, 65535, 0, 2};
const char* const kOptions[] = {"NSID", "COOKIE", "12", "100", "70", "65001", "KEEPALIVE"};
const uint16_t kQueryOptions[] = {3, 10, 12, 100, 70, 65001, 11, 15};
const char* const kOps[] = {"==", "!=", "<", "<=", ">", ">="};

struct RegexSpec {
  const char* pattern;
  const char* accepted;  // a name it accepts (text form)
};
const RegexSpec kRegexes[] = {
    {"^[a-z]+\\.example\\.$", "abc.example."},     // a DNS suffix: prefiltered
    {"^(www|mail)\\.", "www.test."},               // no suffix: a union
    {"x[0-9]+", "x1.b.example."},                  // union
    {"^a\\.b\\.example\\.$", "a.b.example."},      // prefiltered; "a.b" as one label reads the same
    {"evil", "evil.example.com."},                 // union
    {"\\.test\\.$", "ns.test."},                   // prefiltered
    {"^[^.]*\\.b\\.example\\.$", "q.b.example."},  // prefiltered
    {"^\\.$", "."},                                // the root
    {"b\\.example\\.$", "www.a.b.example."},       // suffix without a label boundary
    {"^([a-z0-9-]+\\.)*x1\\.org\\.$", "www.x1.org."},  // any depth
    {"^.{3,6}$", "ab.c."},                             // length
};
constexpr int kRegexCount = 11;

}  // namespace

WidePolicy::WidePolicy(uint64_t seed) : rng_(seed) {}

std::string WidePolicy::name() {
  if (!names_.empty() && coin(60)) return names_[pick(static_cast<int>(names_.size()))];
  if (coin(2)) return ".";  // the root: a suffix of every name
  std::string n = kZones[pick(kZoneCount)];
  int labels = pick(3);
  for (int i = 0; i < labels; ++i) n = std::string(kLabels[pick(kLabelCount)]) + "." + n;
  names_.push_back(n);
  return n;
}

std::string WidePolicy::netmask(bool v6) {
  auto& pool = v6 ? v6_ : v4_;
  if (!pool.empty() && coin(50)) return pool[pick(static_cast<int>(pool.size()))];
  std::string m;
  if (coin(4)) {
    m = v6 ? "::/0" : "0.0.0.0/0";
  } else if (v6) {
    static const int lengths[] = {32, 40, 48, 56, 64, 128};
    m = fmt::format("2001:db8:{:x}::/{}", pick(4), lengths[pick(6)]);
  } else {
    m = fmt::format("10.{}.{}.0/{}", pick(3), pick(4), 8 + pick(17));
    if (coin(10)) m = fmt::format("10.{}.{}.{}/32", pick(3), pick(4), pick(3));
  }
  pool.push_back(m);
  return m;
}

std::string WidePolicy::op() {
  return kOps[pick(6)];
}

std::string WidePolicy::atom(bool allow_stateful) {
  switch (pick(allow_stateful ? 32 : 30)) {
    case 0:
      return fmt::format("qname == \"{}\"", name());
    case 1:
      return fmt::format("qname != \"{}\"", name());
    case 2:
    case 3:
      return fmt::format("qname suffix \"{}\"", name());
    case 4:
      return fmt::format("qname in {{ \"{}\", \"{}\" }}", name(), name());
    case 5:
      return coin(50) ? "qname in zs" : "qname in zn";
    case 6:
    case 7: {
      const RegexSpec& r = kRegexes[pick(kRegexCount)];
      regex_texts_.push_back(r.accepted);
      return fmt::format("qname ~ /{}/", r.pattern);
    }
    case 8:
      return fmt::format("qtype == {}", kTypes[pick(kTypeCount)]);
    case 9:
      return fmt::format("qtype != {}", kTypes[pick(kTypeCount)]);
    case 10:
      return fmt::format("qtype in {{ {}, {} }}", kTypes[pick(kTypeCount)],
                         kTypes[pick(kTypeCount)]);
    case 11:
      return "qtype in zq";
    case 12:
      return fmt::format("qclass == {}", coin(60) ? "IN" : coin(50) ? "CH" : "ANY");
    case 13:
      return fmt::format("opcode == {}", coin(60) ? "QUERY" : coin(50) ? "NOTIFY" : "UPDATE");
    case 14: {
      static const char* const bits[] = {"rd", "cd", "ad", "ra", "aa", "tc"};
      return bits[pick(6)];
    }
    case 15:
      return coin(50) ? "edns.do" : "edns";
    case 16:
      return fmt::format("edns.version {} {}", op(), pick(3));
    case 17:
      return fmt::format("edns.payload {} {}", op(), coin(50) ? 1232 : coin(50) ? 512 : 4096);
    case 18:
      return fmt::format("edns.option == {}", kOptions[pick(7)]);
    case 19:
    case 20:
      return fmt::format("src in {}", netmask(coin(40)));
    case 21:
      return fmt::format("src in {{ {}, {} }}", netmask(false), netmask(true));
    case 22:
      return coin(50) ? "src in zm" : fmt::format("dst in {}", netmask(coin(30)));
    case 23: {
      std::string m = coin(50) ? "127.0.0.1" : "10.0.0.0/24";
      dst_.push_back(m);
      return fmt::format("dst in {}", m);
    }
    case 24:
      return coin(50) ? (coin(50) ? "tcp" : "udp")
                      : fmt::format("transport == {}", coin(50) ? "tcp" : "udp");
    case 25:
      return fmt::format("size {} {}", op(), 30 + pick(50));
    case 26:
      return fmt::format("qname.labels {} {}", op(), pick(5));
    case 27:
      return fmt::format("qname.length {} {}", op(), 1 + pick(25));
    case 28:
      return coin(50) ? "true" : "false";
    case 29:
      return "tagged \"t\"";
    case 30:
      return coin(20) ? "probability 1" : fmt::format("probability 0.{}", 1 + pick(9));
    default:
      return fmt::format("not qname suffix \"{}\"", name());
  }
}

std::string WidePolicy::expr(int depth, bool allow_stateful) {
  if (depth == 0 || coin(35)) return atom(allow_stateful);
  switch (pick(3)) {
    case 0:
      return fmt::format("({} and {})", expr(depth - 1, allow_stateful),
                         expr(depth - 1, allow_stateful));
    case 1:
      return fmt::format("({} or {})", expr(depth - 1, allow_stateful),
                         expr(depth - 1, allow_stateful));
    default:
      return fmt::format("not ({})", expr(depth - 1, allow_stateful));
  }
}

std::string WidePolicy::action() {
  switch (pick(10)) {
    case 0:
      return "drop";
    case 1:
      return "refuse";
    case 2:
    case 3:
      return "truncate";
    case 4:
      return "spoof A 192.0.2.1";
    case 5:
      return "rcode NXDOMAIN";
    case 6:
      return "tag \"t\" log pool p1";
    case 7:
      return "allow";
    case 8:
      return "no_recurse set_cd delay 10ms pool p0";
    default:
      return fmt::format("pool p{}", pick(2));
  }
}

std::string WidePolicy::policy(unsigned max_rules) {
  names_.clear();
  v4_.clear();
  v6_.clear();
  dst_.clear();
  regex_texts_.clear();
  std::string out = "pool p0 { server 192.0.2.10; }\npool p1 { server 192.0.2.11; }\n";
  out += fmt::format("suffixes zs = {{ \"{}\", \"{}\" }};\n", name(), name());
  out += fmt::format("names zn = {{ \"{}\", \"{}\", \"{}\" }};\n", name(), name(), name());
  out += fmt::format("netmasks zm = {{ {}, {}, {} }};\n", netmask(false), netmask(true),
                     netmask(false));
  out += fmt::format("qtypes zq = {{ {}, {} }};\n", kTypes[pick(kTypeCount)], kTypes[7]);
  unsigned rules = 1 + static_cast<unsigned>(pick(static_cast<int>(max_rules)));
  for (unsigned r = 0; r < rules; ++r) {
    std::string cond = expr(3, true);
    // Half the rules are selective: filed under a lookup (a name, an
    // address, a qtype, a regex), as real rules are, so most queries skip them.
    if (coin(50)) {
      switch (pick(5)) {
        case 0:
          cond = fmt::format("qname suffix \"{}\" and {}", name(), cond);
          break;
        case 1:
          cond = fmt::format("qname == \"{}\" and {}", name(), cond);
          break;
        case 2:
          cond = fmt::format("src in {} and {}", netmask(coin(40)), cond);
          break;
        case 3:
          cond = fmt::format("qtype == {} and {}", kTypes[pick(kTypeCount)], cond);
          break;
        default: {
          const RegexSpec& re = kRegexes[pick(kRegexCount)];
          regex_texts_.push_back(re.accepted);
          cond = fmt::format("qname ~ /{}/ and {}", re.pattern, cond);
          break;
        }
      }
    }
    // QPS bounds only as top-level conjuncts (the language's rule).
    if (coin(20)) {
      std::string bound = fmt::format("qps > {}", 1 + pick(5));
      if (coin(40)) bound += fmt::format(" burst {}", 1 + pick(3));
      if (coin(50)) {
        bound += " per src";
        if (coin(70)) {
          bound += fmt::format("/{}", 8 + pick(25));
          if (coin(50)) bound += fmt::format("/{}", 32 + pick(97));
        }
      }
      cond =
          coin(50) ? fmt::format("{} and {}", cond, bound) : fmt::format("{} and {}", bound, cond);
    }
    out += fmt::format("rule r{}: {} => {};\n", r, cond, action());
  }
  // Every set used at least once, so none is reported unused.
  out += "rule sets: qname in zs or qname in zn or src in zm or qtype in zq => pool p1;\n";
  out += "rule default: true => pool p0;\n";
  return out;
}

std::string WidePolicy::address(bool v6, const std::vector<std::string>& pool) {
  return testing::address_near(pool, v6, rng_);
}

WideQuery WidePolicy::query() {
  WideQuery q;
  std::string text;
  int kind = pick(20);
  if (kind < 5 && !regex_texts_.empty()) {
    text = regex_texts_[pick(static_cast<int>(regex_texts_.size()))];
  } else if (kind < 15 && !names_.empty()) {
    text = names_[pick(static_cast<int>(names_.size()))];
    if (coin(40)) text = std::string(kLabels[pick(kLabelCount)]) + "." + text;
    if (coin(10)) text = "bad" + text;  // not label-aligned
  } else if (kind < 16) {
    text = ".";
  } else {
    text = std::string(kLabels[pick(kLabelCount)]) + "." + kZones[pick(kZoneCount)];
  }
  // Labels, split at the dots of the text form.
  std::vector<std::string> labels;
  if (text != ".") {
    size_t start = 0;
    while (start < text.size()) {
      size_t dot = text.find('.', start);
      labels.push_back(text.substr(start, dot - start));
      start = dot + 1;
    }
  }
  // Sometimes two labels become one holding a '.' byte: the text form stays
  // the same, the wire labels differ (the view's dot_in_label).
  if (labels.size() >= 2 && coin(15)) {
    size_t i = static_cast<size_t>(pick(static_cast<int>(labels.size()) - 1));
    labels[i] += "." + labels[i + 1];
    labels.erase(labels.begin() + static_cast<ptrdiff_t>(i) + 1);
  }
  if (coin(20)) {  // letter case must not matter
    for (std::string& l : labels) {
      for (char& c : l) {
        if (coin(50)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
  }
  const uint16_t type = kQueryTypes[pick(12)];
  static const uint16_t classes[] = {1, 1, 1, 3, 255, 4};
  const uint16_t qclass = classes[pick(6)];
  static const uint8_t opcodes[] = {0, 0, 0, 4, 5};
  const uint8_t opcode = opcodes[pick(5)];
  uint16_t flags = static_cast<uint16_t>(opcode << header_bits::kOpcodeShift);
  for (uint16_t bit : {header_bits::kRD, header_bits::kCD, header_bits::kAD, header_bits::kRA,
                       header_bits::kAA, header_bits::kTC}) {
    if (coin(bit == header_bits::kRD ? 70 : 25)) flags |= bit;
  }
  const bool edns = coin(60);
  std::vector<uint8_t>& p = q.packet;
  auto u16 = [&](uint16_t v) {
    p.push_back(static_cast<uint8_t>(v >> 8));
    p.push_back(static_cast<uint8_t>(v));
  };
  u16(static_cast<uint16_t>(rng_()));
  u16(flags);
  u16(1);
  u16(0);
  u16(0);
  u16(edns ? 1 : 0);
  for (const std::string& l : labels) {
    p.push_back(static_cast<uint8_t>(l.size()));
    p.insert(p.end(), l.begin(), l.end());
  }
  p.push_back(0);
  u16(type);
  u16(qclass);
  std::string options_text;
  if (edns) {
    p.push_back(0);
    u16(41);
    static const uint16_t payloads[] = {512, 1232, 4096, 1400};
    u16(payloads[pick(4)]);
    p.push_back(0);
    p.push_back(static_cast<uint8_t>(pick(3)));  // version
    p.push_back(coin(50) ? 0x80 : 0);
    p.push_back(0);
    std::vector<uint8_t> rdata;
    const int options = coin(50) ? 0 : pick(11);  // up to 10: more than the view records
    for (int i = 0; i < options; ++i) {
      const uint16_t code = kQueryOptions[pick(8)];
      const uint16_t len = static_cast<uint16_t>(code == 10 ? 8 : pick(3));
      rdata.push_back(static_cast<uint8_t>(code >> 8));
      rdata.push_back(static_cast<uint8_t>(code));
      rdata.push_back(static_cast<uint8_t>(len >> 8));
      rdata.push_back(static_cast<uint8_t>(len));
      for (uint16_t k = 0; k < len; ++k) rdata.push_back(static_cast<uint8_t>(pick(256)));
      options_text += fmt::format(" opt{}", code);
    }
    u16(static_cast<uint16_t>(rdata.size()));
    p.insert(p.end(), rdata.begin(), rdata.end());
  }
  const bool v6 = coin(30);
  q.source =
      *NetAddress::parse(address(v6, v6 ? v6_ : v4_), static_cast<uint16_t>(1024 + pick(1000)));
  if (!dst_.empty() && coin(30)) {
    q.destination = *NetAddress::parse(address(false, dst_), 53);
  } else {
    static const char* const dsts[] = {"10.0.0.1", "127.0.0.1", "::1", "2001:db8:1::1"};
    q.destination = *NetAddress::parse(dsts[pick(4)], 53);
  }
  q.transport = coin(25) ? Transport::kTcp : Transport::kUdp;
  static const uint64_t steps[] = {0, 0, 1'000'000, 50'000'000, 150'000'000, 1'000'000'000};
  now_ns_ += steps[pick(6)];
  q.now_ns = now_ns_;
  std::string wire_text;
  for (const std::string& l : labels) wire_text += "[" + l + "]";
  q.describe = fmt::format(
      "{} (labels {}) type {} class {} opcode {} flags {:#06x} from {} to {} {}{}{} at {} ms", text,
      wire_text.empty() ? "none" : wire_text, type, qclass, opcode, flags, q.source.to_string(),
      q.destination.to_string(), q.transport == Transport::kTcp ? "tcp" : "udp",
      edns ? " edns" : "", options_text, now_ns_ / 1'000'000);
  return q;
}

}  // namespace dnspc::testing
