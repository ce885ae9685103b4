#include "dnspc/ir/lower.h"

#include <algorithm>
#include <cmath>

#include "dnspc/wire.h"

namespace dnspc::ir {

namespace {

using K = sema::Cond::Kind;

std::string wire_name(const std::string& text) {
  uint8_t buf[256];
  size_t len = encode_name(text, buf, sizeof buf);
  return std::string(reinterpret_cast<const char*>(buf), len);
}

Compare to_compare(sema::Compare c) { return static_cast<Compare>(c); }

class Lowering {
 public:
  explicit Lowering(const sema::Model& m) : m_(m) {}

  Program run() {
    p_.pools.reserve(m_.pools.size());
    for (const sema::Pool& pool : m_.pools) p_.pools.push_back(pool.name);
    p_.tags = m_.tags;
    named_tables_.assign(m_.sets.size(), UINT32_MAX);
    // Rules up to the last Lua action may be resumed past (the action fell
    // back: the rule counts as not matched), so they carry the `from rule`
    // guard; without Lua actions no rule does. With a kernel fast path every
    // rule does: user space starts past the kernel's prefix for a query the
    // XDP program evaluated (docs/xdp.md), and the prefix is only known once
    // the program is optimised, so any rule may be the first past it.
    uint32_t guarded = 0;
    for (uint32_t r = 0; r < m_.rules.size(); ++r) {
      if (m_.rules[r].action.terminal == sema::Terminal::kLua) guarded = r + 1;
    }
    if (m_.xdp) guarded = static_cast<uint32_t>(m_.rules.size());
    for (uint32_t r = 0; r < m_.rules.size(); ++r) lower_rule(r, r < guarded);
    return std::move(p_);
  }

  Program run_responses() {
    p_.responses = true;
    p_.pools.reserve(m_.pools.size());
    for (const sema::Pool& pool : m_.pools) p_.pools.push_back(pool.name);
    p_.tags = m_.tags;
    named_tables_.assign(m_.sets.size(), UINT32_MAX);
    // Rules up to the last one without a terminal action may be resumed
    // past, so they carry the `from rule` guard.
    uint32_t guarded = 0;
    for (uint32_t r = 0; r < m_.response_rules.size(); ++r) {
      if (m_.response_rules[r].terminal == sema::ResponseTerminal::kNone) guarded = r + 1;
    }
    for (uint32_t r = 0; r < m_.response_rules.size(); ++r) lower_response_rule(r, r < guarded);
    return std::move(p_);
  }

 private:
  uint32_t add_test(Test t) {
    p_.tests.push_back(t);
    return static_cast<uint32_t>(p_.tests.size() - 1);
  }

  uint32_t add_node(Node n) {
    p_.nodes.push_back(std::move(n));
    return static_cast<uint32_t>(p_.nodes.size() - 1);
  }

  uint32_t leaf(Test t) {
    Node n;
    n.op = Node::Op::kTest;
    n.test = add_test(t);
    return add_node(std::move(n));
  }

  // Whether a subtree holds a test with side effects.
  bool stateful(uint32_t node) const {
    const Node& n = p_.nodes[node];
    if (n.op == Node::Op::kTest) return is_stateful(p_.tests[n.test].kind);
    return std::any_of(n.children.begin(), n.children.end(), [&](uint32_t c) { return stateful(c); });
  }

  uint32_t name_table(const sema::Cond& c) {
    if (c.set >= 0) {
      if (named_tables_[c.set] == UINT32_MAX) {
        const sema::NamedSet& s = m_.sets[c.set];
        NameSet out;
        for (const std::string& n : s.names) out.entries.push_back({wire_name(n), s.kind == sema::SetKind::kSuffixes});
        p_.name_sets.push_back(std::move(out));
        named_tables_[c.set] = static_cast<uint32_t>(p_.name_sets.size() - 1);
      }
      return named_tables_[c.set];
    }
    NameSet out;
    for (const std::string& n : c.names) out.entries.push_back({wire_name(n), c.kind == K::kQnameSuffix});
    p_.name_sets.push_back(std::move(out));
    return static_cast<uint32_t>(p_.name_sets.size() - 1);
  }

  uint32_t prefix_table(const sema::Cond& c) {
    if (c.set >= 0 && named_tables_[c.set] != UINT32_MAX) return named_tables_[c.set];
    const auto& prefixes = c.set >= 0 ? m_.sets[c.set].prefixes : c.prefixes;
    PrefixSet out;
    for (const sema::Prefix& p : prefixes) out.prefixes.push_back({p.address, p.length});
    p_.prefix_sets.push_back(std::move(out));
    uint32_t id = static_cast<uint32_t>(p_.prefix_sets.size() - 1);
    if (c.set >= 0) named_tables_[c.set] = id;
    return id;
  }

  uint32_t qtype_table(std::vector<uint16_t> types) {
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    p_.qtype_sets.push_back({std::move(types)});
    return static_cast<uint32_t>(p_.qtype_sets.size() - 1);
  }

  // sema compiled each distinct pattern once; reuse its DFA and literals.
  uint32_t regex_table(int index) {
    if (regex_tables_.empty()) regex_tables_.assign(m_.regexes.size(), UINT32_MAX);
    if (regex_tables_[index] == UINT32_MAX) {
      const sema::CompiledRegex& c = m_.regexes[index];
      p_.regexes.push_back({c.pattern, c.dfa, c.required, c.dns_suffix});
      regex_tables_[index] = static_cast<uint32_t>(p_.regexes.size() - 1);
    }
    return regex_tables_[index];
  }

  // An and/or of lowered children. `a and (b and c)` is one and of three:
  // the parser nests, the meaning does not, and a flat list makes "evaluated
  // before any stateful test" a property of the direct children.
  uint32_t and_or(Node::Op op, const std::vector<uint32_t>& lowered) {
    Node n;
    n.op = op;
    for (uint32_t child : lowered) {
      if (p_.nodes[child].op == op) {
        const auto& grand = p_.nodes[child].children;
        n.children.insert(n.children.end(), grand.begin(), grand.end());
      } else {
        n.children.push_back(child);
      }
    }
    std::stable_partition(n.children.begin(), n.children.end(),
                          [&](uint32_t child) { return !stateful(child); });
    return add_node(std::move(n));
  }

  uint32_t lower_cond(const sema::Cond& c, uint32_t rule) {
    Test t;
    t.range = c.range;
    switch (c.kind) {
      case K::kAnd:
      case K::kOr: {
        std::vector<uint32_t> lowered;
        for (const sema::Cond& child : c.children) lowered.push_back(lower_cond(child, rule));
        return and_or(c.kind == K::kAnd ? Node::Op::kAnd : Node::Op::kOr, lowered);
      }
      case K::kNot: {
        Node n;
        n.op = Node::Op::kNot;
        n.children.push_back(lower_cond(c.children[0], rule));
        return add_node(std::move(n));
      }
      case K::kTrue: t.kind = TestKind::kTrue; break;
      case K::kFalse: t.kind = TestKind::kFalse; break;
      case K::kQnameEquals:
      case K::kQnameSuffix:
      case K::kQnameInNames:
      case K::kQnameInSuffixes:
        t.kind = TestKind::kName;
        t.table = name_table(c);
        break;
      case K::kQnameRegex:
        t.kind = TestKind::kRegex;
        t.table = regex_table(c.regex);
        break;
      case K::kLabelCount:
      case K::kNameLength:
      case K::kEdnsVersion:
      case K::kEdnsPayload:
      case K::kPacketSize:
        t.kind = c.kind == K::kLabelCount   ? TestKind::kLabelCount
                 : c.kind == K::kNameLength ? TestKind::kNameLength
                 : c.kind == K::kEdnsVersion ? TestKind::kEdnsVersion
                 : c.kind == K::kEdnsPayload ? TestKind::kEdnsPayload
                                             : TestKind::kSize;
        t.op = to_compare(c.compare);
        t.value = c.number;
        break;
      case K::kQtype:
        t.kind = TestKind::kQtype;
        t.table = qtype_table({static_cast<uint16_t>(c.number)});
        break;
      case K::kQtypeIn:
        t.kind = TestKind::kQtype;
        t.table = qtype_table(c.set >= 0 ? m_.sets[c.set].qtypes : c.qtypes);
        break;
      case K::kQclass: t.kind = TestKind::kQclass; t.value = c.number; break;
      case K::kOpcode: t.kind = TestKind::kOpcode; t.value = c.number; break;
      case K::kHeaderBit: t.kind = TestKind::kHeaderBit; t.value = c.number; break;
      case K::kEdns: t.kind = TestKind::kEdns; break;
      case K::kEdnsDo: t.kind = TestKind::kEdnsDo; break;
      case K::kEdnsOption: t.kind = TestKind::kEdnsOption; t.value = c.number; break;
      case K::kSourceIn:
      case K::kDestinationIn:
        t.kind = c.kind == K::kSourceIn ? TestKind::kSource : TestKind::kDestination;
        t.table = prefix_table(c);
        break;
      case K::kTransport: t.kind = TestKind::kTransport; t.value = c.number; break;
      case K::kQps: {
        t.kind = TestKind::kQps;
        Limiter l;
        l.qps = c.rate;
        l.burst = c.burst;
        l.spec = RateSpec::per_second(c.rate, c.burst);
        l.per_source = c.per_source;
        l.v4_prefix = c.v4_prefix;
        l.v6_prefix = c.v6_prefix;
        l.table_size = c.per_source ? m_.options.source_table_size : 0;
        l.rule = rule;
        p_.limiters.push_back(l);
        t.table = static_cast<uint32_t>(p_.limiters.size() - 1);
        break;
      }
      case K::kProbability:
        t.kind = TestKind::kProbability;
        t.value = c.real >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(std::ldexp(c.real, 64));
        break;
      case K::kTagged: t.kind = TestKind::kTagged; t.value = c.number; break;
      case K::kLua:
        t.kind = TestKind::kLua;
        t.table = static_cast<uint32_t>(p_.lua_functions.size());
        p_.lua_functions.push_back(c.function);
        break;
    }
    return leaf(t);
  }

  // `test and (root)`, flattened into root's and when it is one: the
  // stateless guard is evaluated first, as the partition would put it.
  uint32_t guard(Test test, uint32_t root) {
    Node n;
    n.op = Node::Op::kAnd;
    n.children = {leaf(test)};
    const Node& r = p_.nodes[root];
    if (r.op == Node::Op::kAnd) {
      n.children.insert(n.children.end(), r.children.begin(), r.children.end());
    } else {
      n.children.push_back(root);
    }
    return add_node(std::move(n));
  }

  // `from rule index and (root)`: false once the caller resumed past the
  // rule, before any of the rule's own tests runs (so nothing is charged).
  uint32_t from_rule(uint32_t index, diag::SourceRange range, uint32_t root) {
    Test from;
    from.kind = TestKind::kFromRule;
    from.value = index;
    from.range = range;
    return guard(from, root);
  }

  uint32_t lower_response_cond(const sema::ResponseCond& c, uint32_t rule) {
    using RK = sema::ResponseCond::Kind;
    Test t;
    t.range = c.range;
    t.op = to_compare(c.compare);
    t.value = c.number;
    switch (c.kind) {
      case RK::kAnd:
      case RK::kOr: {
        std::vector<uint32_t> lowered;
        for (const sema::ResponseCond& child : c.children) lowered.push_back(lower_response_cond(child, rule));
        return and_or(c.kind == RK::kAnd ? Node::Op::kAnd : Node::Op::kOr, lowered);
      }
      case RK::kNot: {
        Node n;
        n.op = Node::Op::kNot;
        n.children.push_back(lower_response_cond(c.children[0], rule));
        return add_node(std::move(n));
      }
      case RK::kQuery:  // an and/or it returns flattens into the enclosing one (and_or)
        return lower_cond(*c.query, rule);
      case RK::kRcode: t.kind = TestKind::kResponseRcode; break;
      case RK::kAnswerCount: t.kind = TestKind::kAnswerCount; break;
      case RK::kLatencyMs: t.kind = TestKind::kLatency; break;
      case RK::kSize: t.kind = TestKind::kResponseSize; break;
    }
    return leaf(t);
  }

  void lower_response_rule(uint32_t index, bool guarded) {
    const sema::ResponseRule& r = m_.response_rules[index];
    Rule out;
    out.name = r.name;
    out.range = r.range;
    out.root = lower_response_cond(r.condition, index);
    if (r.terminal == sema::ResponseTerminal::kTruncate) {
      Test udp;
      udp.kind = TestKind::kTransport;
      udp.value = 0;
      udp.range = r.range;
      out.root = guard(udp, out.root);
    }
    if (guarded) out.root = from_rule(index, r.range, out.root);
    RuleAction& a = out.action;
    if (!r.modifiers.tags.empty()) a.modifiers |= modifier_bits::kTag;
    for (int tag : r.modifiers.tags) a.tag_bits |= uint64_t{1} << tag;
    if (r.modifiers.log) a.modifiers |= modifier_bits::kLog;
    switch (r.terminal) {
      case sema::ResponseTerminal::kNone: a.terminal = ActionKind::kAllow; break;
      case sema::ResponseTerminal::kDrop: a.terminal = ActionKind::kDrop; break;
      case sema::ResponseTerminal::kTruncate: a.terminal = ActionKind::kTruncate; break;
      case sema::ResponseTerminal::kRcode:
        a.terminal = ActionKind::kRcode;
        a.argument = r.rcode;
        break;
      case sema::ResponseTerminal::kLua:
        a.terminal = ActionKind::kLua;
        a.argument = static_cast<uint16_t>(p_.lua_functions.size());
        p_.lua_functions.push_back(r.lua_function);
        break;
    }
    p_.rules.push_back(std::move(out));
  }

  void lower_rule(uint32_t index, bool guarded) {
    const sema::Rule& r = m_.rules[index];
    Rule out;
    out.name = r.name;
    out.range = r.name_range;
    out.root = lower_cond(r.condition, index);
    if (r.action.terminal == sema::Terminal::kTruncate) {
      Test udp;
      udp.kind = TestKind::kTransport;
      udp.value = 0;
      udp.range = r.action.range;
      out.root = guard(udp, out.root);
    }
    if (guarded) out.root = from_rule(index, r.name_range, out.root);
    out.action = lower_action(r.action);
    p_.rules.push_back(std::move(out));
  }

  RuleAction lower_action(const sema::Action& a) {
    RuleAction out;
    const sema::Modifiers& mod = a.modifiers;
    out.range = a.range;
    out.modifier_range = mod.range;
    if (!mod.tags.empty()) out.modifiers |= modifier_bits::kTag;
    for (int tag : mod.tags) out.tag_bits |= uint64_t{1} << tag;
    if (mod.log) out.modifiers |= modifier_bits::kLog;
    if (mod.delay_ms) {
      out.modifiers |= modifier_bits::kDelay;
      out.delay_ms = static_cast<uint32_t>(mod.delay_ms);
    }
    if (mod.no_recurse) out.modifiers |= modifier_bits::kNoRecurse;
    if (mod.set_cd) out.modifiers |= modifier_bits::kSetCd;
    if (mod.no_cache) out.modifiers |= modifier_bits::kNoCache;
    switch (a.terminal) {
      case sema::Terminal::kPool:
        out.terminal = ActionKind::kPool;
        out.argument = static_cast<uint16_t>(a.pool);
        break;
      case sema::Terminal::kAllow:
        out.terminal = ActionKind::kAllow;
        out.argument = static_cast<uint16_t>(a.pool < 0 ? 0 : a.pool);
        break;
      case sema::Terminal::kDrop: out.terminal = ActionKind::kDrop; break;
      case sema::Terminal::kRefuse: out.terminal = ActionKind::kRefuse; break;
      case sema::Terminal::kRcode:
        out.terminal = ActionKind::kRcode;
        out.argument = a.rcode;
        break;
      case sema::Terminal::kTruncate: out.terminal = ActionKind::kTruncate; break;
      case sema::Terminal::kSpoof: {
        out.terminal = ActionKind::kSpoof;
        SpoofSet set;
        set.ttl = a.ttl;
        for (const sema::SpoofRecord& r : a.records) set.records.push_back({r.type, r.data});
        p_.spoof_sets.push_back(std::move(set));
        out.argument = static_cast<uint16_t>(p_.spoof_sets.size() - 1);
        break;
      }
      case sema::Terminal::kLua:
        out.terminal = ActionKind::kLua;
        out.argument = static_cast<uint16_t>(p_.lua_functions.size());
        p_.lua_functions.push_back(a.lua_function);
        break;
    }
    return out;
  }

  const sema::Model& m_;
  Program p_;
  std::vector<uint32_t> named_tables_;
  std::vector<uint32_t> regex_tables_;  // sema regex -> table  // sema set -> table, per kind's own table list
};

}  // namespace

Program lower(const sema::Model& model) { return Lowering(model).run(); }

Program lower_responses(const sema::Model& model) { return Lowering(model).run_responses(); }

}  // namespace dnspc::ir
