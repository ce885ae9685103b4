#include "dnspc/ir/describe.h"

#include <fmt/core.h>

#include "dnspc/dns_names.h"

namespace dnspc::ir {

namespace {

// Up to three items, then "+N more".
template <typename T, typename F>
std::string list(const std::vector<T>& items, F&& show) {
  std::string out = "{";
  for (size_t i = 0; i < items.size() && i < 3; ++i) out += (i ? ", " : "") + show(items[i]);
  if (items.size() > 3) out += fmt::format(", +{} more", items.size() - 3);
  return out + "}";
}

std::string prefix_text(const Prefix& p) { return fmt::format("{}/{}", p.address.to_string(false), p.length); }

}  // namespace

std::string wire_to_text(const std::string& wire) {
  std::string text;
  for (size_t i = 0; i < wire.size() && wire[i];) {
    size_t len = static_cast<uint8_t>(wire[i]);
    text += wire.substr(i + 1, len) + ".";
    i += len + 1;
  }
  return text.empty() ? "." : text;
}

std::string describe_test(const Program& p, uint32_t index) {
  const Test& t = p.tests[index];
  switch (t.kind) {
    case TestKind::kTrue: return "true";
    case TestKind::kFalse: return "false";
    case TestKind::kName: {
      const auto& entries = p.name_sets[t.table].entries;
      if (entries.size() == 1) {
        return fmt::format("qname {} {}", entries[0].suffix ? "suffix" : "==", wire_to_text(entries[0].wire));
      }
      return "qname in " + list(entries, [](const NameEntry& e) {
               return (e.suffix ? "*." : "") + wire_to_text(e.wire);
             });
    }
    case TestKind::kRegex: return fmt::format("qname ~ /{}/", p.regexes[t.table].pattern);
    case TestKind::kLabelCount:
    case TestKind::kNameLength:
    case TestKind::kEdnsVersion:
    case TestKind::kEdnsPayload:
    case TestKind::kSize:
      return fmt::format("{} {} {}", test_kind_name(t.kind), compare_text(t.op), t.value);
    case TestKind::kQtype: {
      const auto& types = p.qtype_sets[t.table].qtypes;
      if (types.size() == 1) return "qtype == " + qtype_name(types[0]);
      return "qtype in " + list(types, [](uint16_t q) { return qtype_name(q); });
    }
    case TestKind::kQclass: return fmt::format("qclass == {}", t.value);
    case TestKind::kOpcode: return fmt::format("opcode == {}", t.value);
    case TestKind::kHeaderBit: {
      static const std::pair<uint64_t, const char*> bits[] = {
          {0x0100, "rd"}, {0x0010, "cd"}, {0x0020, "ad"}, {0x0080, "ra"}, {0x0400, "aa"}, {0x0200, "tc"}};
      for (auto& [bit, name] : bits) {
        if (bit == t.value) return name;
      }
      return fmt::format("header bit {:#x}", t.value);
    }
    case TestKind::kEdns: return "edns";
    case TestKind::kEdnsDo: return "edns.do";
    case TestKind::kEdnsOption: return fmt::format("edns.option == {}", t.value);
    case TestKind::kSource:
    case TestKind::kDestination:
      return fmt::format("{} in {}", t.kind == TestKind::kSource ? "src" : "dst",
                         list(p.prefix_sets[t.table].prefixes, prefix_text));
    case TestKind::kTransport: return t.value ? "tcp" : "udp";
    case TestKind::kQps: {
      const Limiter& l = p.limiters[t.table];
      std::string out = fmt::format("qps > {} burst {}", l.qps, l.burst);
      if (l.per_source) out += fmt::format(" per src/{}/{}", l.v4_prefix, l.v6_prefix);
      return out;
    }
    case TestKind::kProbability:
      return fmt::format("probability {:.3f}", t.value == UINT64_MAX ? 1.0 : static_cast<double>(t.value) / 18446744073709551616.0);
    case TestKind::kTagged: return fmt::format("tagged \"{}\"", t.value < p.tags.size() ? p.tags[t.value] : "?");
    case TestKind::kLua: return fmt::format("lua {}", p.lua_functions[t.table]);
    case TestKind::kResponseRcode:
      return fmt::format("rcode {} {}", compare_text(t.op), rcode_name(static_cast<uint8_t>(t.value)));
    case TestKind::kAnswerCount:
    case TestKind::kResponseSize:
      return fmt::format("{} {} {}", test_kind_name(t.kind), compare_text(t.op), t.value);
    case TestKind::kLatency: return fmt::format("latency {} {}ms", compare_text(t.op), t.value);
    case TestKind::kFromRule: return fmt::format("from rule {}", t.value);
  }
  return "?";
}

std::string describe_condition(const Program& p, uint32_t index) {
  const Node& n = p.nodes[index];
  switch (n.op) {
    case Node::Op::kTest: return describe_test(p, n.test);
    case Node::Op::kNot: return "not " + describe_condition(p, n.children[0]);
    case Node::Op::kAnd:
    case Node::Op::kOr: {
      std::string out = "(";
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) out += n.op == Node::Op::kAnd ? " and " : " or ";
        out += describe_condition(p, n.children[i]);
      }
      return out + ")";
    }
  }
  return "?";
}

std::string describe_action(const Program& p, uint32_t rule) {
  const RuleAction& a = p.rules[rule].action;
  std::string out;
  if (a.modifiers & modifier_bits::kTag) {
    for (size_t i = 0; i < p.tags.size(); ++i) {
      if (a.tag_bits >> i & 1) out += fmt::format("tag \"{}\" ", p.tags[i]);
    }
  }
  if (a.modifiers & modifier_bits::kLog) out += "log ";
  if (a.modifiers & modifier_bits::kDelay) out += fmt::format("delay {}ms ", a.delay_ms);
  if (a.modifiers & modifier_bits::kNoRecurse) out += "no_recurse ";
  if (a.modifiers & modifier_bits::kSetCd) out += "set_cd ";
  if (a.modifiers & modifier_bits::kNoCache) out += "no_cache ";
  if (p.responses && a.terminal == ActionKind::kAllow) {
    return out + "(no terminal action: the next response rule runs)";
  }
  switch (a.terminal) {
    case ActionKind::kPool: return out + "pool " + p.pools[a.argument];
    case ActionKind::kAllow: return out + "allow (pool " + p.pools[a.argument] + ")";
    case ActionKind::kRcode: return out + "rcode " + rcode_name(static_cast<uint8_t>(a.argument));
    case ActionKind::kSpoof: {
      const SpoofSet& s = p.spoof_sets[a.argument];
      return out + fmt::format("spoof ({} record{}, ttl {})", s.records.size(), s.records.size() == 1 ? "" : "s", s.ttl);
    }
    case ActionKind::kLua: return out + "lua " + p.lua_functions[a.argument];
    default: return out + action_kind_name(a.terminal);
  }
}

}  // namespace dnspc::ir
