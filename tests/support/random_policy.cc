#include "random_policy.h"

#include <fmt/core.h>

#include <algorithm>

#include "dnspc/wire.h"

namespace dnspc::testing {

namespace {

const char* const kLabels[] = {"a", "b", "www", "mail", "x1", "evil", "ns"};
const char* const kZones[] = {"example.", "example.com.", "test.", "b.example.", "evil.example.com."};
const char* const kTypes[] = {"A", "AAAA", "TXT", "ANY", "MX", "DNSKEY", "TYPE65"};

struct RegexSpec {
  const char* pattern;
  const char* accepted;  // a name it accepts (text form)
};
const RegexSpec kRegexes[] = {
    {"^[a-z]+\\.example\\.$", "abc.example."},
    {"^(www|mail)\\.", "www.test."},
    {"x[0-9]+", "x1.b.example."},
    {"^[a-z0-9]{5,}\\.example\\.com\\.$", "abcde1.example.com."},
    {"evil", "evil.example.com."},
    {"^a\\.b\\.example\\.$", "a.b.example."},
    {"\\.test\\.$", "ns.test."},
};

}  // namespace

RandomPolicy::RandomPolicy(uint64_t seed) : rng_(seed) {}

std::string RandomPolicy::name() {
  if (!names_.empty() && coin(60)) return names_[pick(static_cast<int>(names_.size()))];
  std::string n = kZones[pick(5)];
  int labels = pick(3);
  for (int i = 0; i < labels; ++i) n = std::string(kLabels[pick(7)]) + "." + n;
  names_.push_back(n);
  return n;
}

std::string RandomPolicy::qtype() { return kTypes[pick(7)]; }

std::string RandomPolicy::netmask(bool v6) {
  auto& pool = v6 ? v6_ : v4_;
  if (!pool.empty() && coin(50)) return pool[pick(static_cast<int>(pool.size()))];
  std::string m;
  if (v6) {
    int len = 32 + 8 * pick(5);
    m = fmt::format("2001:db8:{:x}::/{}", pick(4), len == 32 ? 48 : len);
  } else {
    int len = 8 + pick(25);
    m = fmt::format("10.{}.{}.0/{}", pick(3), pick(4), std::min(len, 24));
  }
  pool.push_back(m);
  return m;
}

std::string RandomPolicy::atom(bool allow_stateful) {
  switch (pick(allow_stateful ? 20 : 18)) {
    case 0: return fmt::format("qname == \"{}\"", name());
    case 1:
    case 2: return fmt::format("qname suffix \"{}\"", name());
    case 3: return fmt::format("qname in {{ \"{}\", \"{}\" }}", name(), name());
    case 4: {
      const RegexSpec& r = kRegexes[pick(7)];
      regex_texts_.push_back(r.accepted);
      return fmt::format("qname ~ /{}/", r.pattern);
    }
    case 5: return fmt::format("qtype == {}", qtype());
    case 6: return fmt::format("qtype in {{ {}, {} }}", qtype(), qtype());
    case 7:
    case 8: return fmt::format("src in {}", netmask(coin(40)));
    case 9: return fmt::format("src in {{ {}, {} }}", netmask(false), netmask(true));
    case 10: return fmt::format("dst in {}", netmask(false));
    case 11: return std::string(coin(50) ? "rd" : "cd");
    case 12: return coin(50) ? "edns.do" : "edns";
    case 13: return coin(50) ? "tcp" : "udp";
    case 14: return fmt::format("qname.labels {} {}", coin(50) ? ">" : "<=", pick(5));
    case 15: return fmt::format("size > {}", 30 + pick(30));
    case 16: return fmt::format("edns.payload >= {}", 512 + pick(2) * 1000);
    case 17: return fmt::format("not qname suffix \"{}\"", name());
    case 18: return fmt::format("probability 0.{}", 1 + pick(9));
    default: return fmt::format("qname.length > {}", 5 + pick(15));
  }
}

std::string RandomPolicy::expr(int depth, bool allow_stateful) {
  if (depth == 0 || coin(40)) return atom(allow_stateful);
  switch (pick(3)) {
    case 0: return fmt::format("({} and {})", expr(depth - 1, allow_stateful), expr(depth - 1, allow_stateful));
    case 1: return fmt::format("({} or {})", expr(depth - 1, allow_stateful), expr(depth - 1, allow_stateful));
    default: return fmt::format("not ({})", expr(depth - 1, allow_stateful));
  }
}

std::string RandomPolicy::action() {
  switch (pick(7)) {
    case 0: return "drop";
    case 1: return "refuse";
    case 2: return "truncate";
    case 3: return "spoof A 192.0.2.1";
    case 4: return "rcode NXDOMAIN";
    case 5: return "log tag \"t\" pool p1";
    default: return fmt::format("pool p{}", pick(2));
  }
}

std::string RandomPolicy::policy(unsigned max_rules) {
  names_.clear();
  v4_.clear();
  v6_.clear();
  regex_texts_.clear();
  std::string out = "pool p0 { server 192.0.2.10; }\npool p1 { server 192.0.2.11; }\n";
  if (coin(50)) out += "suffixes zs = { \"example.com.\", \"b.example.\" };\n";
  unsigned rules = 1 + static_cast<unsigned>(pick(static_cast<int>(max_rules)));
  bool set_used = false;
  for (unsigned r = 0; r < rules; ++r) {
    std::string cond = expr(3, true);
    if (out.find("suffixes zs") != std::string::npos && coin(10)) {
      cond = fmt::format("qname in zs and {}", cond);
      set_used = true;
    }
    // A QPS bound only as a top-level conjunct (the language's rule).
    if (coin(15)) {
      cond = fmt::format("{} and qps > {}{}", cond, 1 + pick(5),
                         coin(50) ? fmt::format(" per src/{}/{}", 16 + pick(17), 48 + pick(17)) : "");
    }
    out += fmt::format("rule r{}: {} => {};\n", r, cond, action());
  }
  if (out.find("suffixes zs") != std::string::npos && !set_used) {
    out += "rule uses_zs: qname in zs => pool p0;\n";
  }
  out += "rule default: true => pool p0;\n";
  return out;
}

std::string with_actions(const std::string& policy, const std::function<std::string()>& pick) {
  std::string out;
  size_t begin = 0;
  while (begin < policy.size()) {
    size_t end = policy.find('\n', begin);
    end = end == std::string::npos ? policy.size() : end + 1;
    std::string line = policy.substr(begin, end - begin);
    begin = end;
    // "rule rN: CONDITION => ACTION;": the last " => " ends the condition
    // (conditions hold no "=>"), the action runs to the ';'.
    const size_t arrow = line.rfind(" => ");
    const size_t semi = line.rfind(';');
    if (line.starts_with("rule r") && arrow != std::string::npos && semi > arrow) {
      if (std::string action = pick(); !action.empty()) line.replace(arrow + 4, semi - arrow - 4, action);
    }
    out += line;
  }
  return out;
}

std::string with_lua_actions(const std::string& policy, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return with_actions(policy, [&] { return rng() % 4 == 0 ? std::string("lua act") : std::string(); });
}

std::string address_near(const std::vector<std::string>& netmasks, bool v6, std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  std::string base;
  if (!netmasks.empty() && pick(100) < 80) {
    base = netmasks[pick(static_cast<int>(netmasks.size()))];
    base = base.substr(0, base.find('/'));
  } else {
    base = v6 ? "2001:db8:9::" : "10.9.9.0";
  }
  if (v6) return base + (base.ends_with("::") ? fmt::format("{:x}", pick(3)) : "");
  auto last_dot = base.rfind('.');
  return base.substr(0, last_dot + 1) + std::to_string(pick(3));
}

std::string RandomPolicy::address(bool v6) { return address_near(v6 ? v6_ : v4_, v6, rng_); }

RandomQuery RandomPolicy::query() {
  RandomQuery q;
  std::string qname;
  int kind = pick(10);
  if (kind < 2 && !regex_texts_.empty()) {
    qname = regex_texts_[pick(static_cast<int>(regex_texts_.size()))];
  } else if (kind < 8 && !names_.empty()) {
    qname = names_[pick(static_cast<int>(names_.size()))];
    if (coin(40)) qname = std::string(kLabels[pick(7)]) + "." + qname;
    if (coin(10)) qname = "bad" + qname;  // not label-aligned
  } else {
    qname = std::string(kLabels[pick(7)]) + "." + kZones[pick(5)];
  }
  if (coin(20)) {  // letter case must not matter
    for (char& c : qname) {
      if (coin(50)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  static const uint16_t types[] = {1, 28, 16, 255, 15, 48, 65};
  uint16_t type = types[pick(7)];
  bool edns = coin(60);
  uint16_t flags = 0;
  if (coin(70)) flags |= header_bits::kRD;
  if (coin(30)) flags |= header_bits::kCD;
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
  uint8_t wire[256];
  size_t len = encode_name(qname, wire, sizeof wire);
  p.insert(p.end(), wire, wire + len);
  u16(type);
  u16(1);
  if (edns) {
    p.push_back(0);
    u16(41);
    u16(coin(50) ? 1232 : 4096);
    p.push_back(0);
    p.push_back(0);
    p.push_back(coin(50) ? 0x80 : 0);
    p.push_back(0);
    u16(0);
  }
  bool v6 = coin(30);
  q.source = *NetAddress::parse(address(v6), static_cast<uint16_t>(1024 + pick(1000)));
  q.destination = *NetAddress::parse(coin(50) ? "10.0.0.1" : "127.0.0.1", 53);
  q.transport = coin(25) ? Transport::kTcp : Transport::kUdp;
  now_ns_ += static_cast<uint64_t>(pick(4)) * 50'000'000;  // 0 to 150 ms
  q.now_ns = now_ns_;
  q.describe = fmt::format("{} type {} from {} {}{}{} at {} ms", qname, type, q.source.to_string(),
                           q.transport == Transport::kTcp ? "tcp" : "udp", edns ? " edns" : "",
                           (flags & header_bits::kRD) ? " rd" : "", now_ns_ / 1'000'000);
  return q;
}

}  // namespace dnspc::testing
