// Rules, their actions, response rules and dynamic blocks.
#include <algorithm>
#include <fmt/core.h>
#include <unordered_map>

#include "analyzer.h"
#include "dnspc/wire.h"

namespace dnspc::sema {

namespace {

using AK = ast::Action::Kind;

const std::vector<std::string> kActionWords = {"pool", "drop",  "refuse", "rcode", "truncate",
                                               "spoof", "allow", "lua",    "tag",   "log",
                                               "delay", "no_recurse", "set_cd", "no_cache"};

Terminal to_terminal(AK k) {
  switch (k) {
    case AK::kPool: return Terminal::kPool;
    case AK::kDrop: return Terminal::kDrop;
    case AK::kRefuse: return Terminal::kRefuse;
    case AK::kRcode: return Terminal::kRcode;
    case AK::kTruncate: return Terminal::kTruncate;
    case AK::kSpoof: return Terminal::kSpoof;
    case AK::kAllow: return Terminal::kAllow;
    default: return Terminal::kLua;
  }
}

}  // namespace

void Analyzer::analyze_rules() {
  std::unordered_map<std::string, diag::SourceRange> names;
  names.reserve(ast_.rules.size() + ast_.response_rules.size() + ast_.dynblocks.size());
  model_.rules.reserve(ast_.rules.size());
  auto unique_name = [&](const ast::Name& n) {
    auto [it, fresh] = names.emplace(n.text, n.range);
    if (!fresh) {
      auto& d = diags_.error("duplicate-rule", n.range,
                             fmt::format("rule name '{}' is used twice; rule names must be unique "
                                         "because counters and state follow them across reloads",
                                         n.text));
      d.notes.push_back({it->second, "first used here"});
    }
  };
  for (const ast::RuleDecl& decl : ast_.rules) {
    unique_name(decl.name);
    Rule rule;
    rule.name = decl.name.text;
    rule.name_range = decl.name.range;
    rule.range = decl.range;
    rule.condition = analyze_condition(*decl.condition, true, false);
    rule.action = analyze_actions(decl);
    model_.rules.push_back(std::move(rule));
  }
  for (const ast::RuleDecl& decl : ast_.response_rules) unique_name(decl.name);
  for (const ast::DynBlockDecl& decl : ast_.dynblocks) unique_name(decl.name);
}

Action Analyzer::analyze_actions(const ast::RuleDecl& rule) {
  Action out;
  out.range = rule.range;
  const ast::Action* terminal = nullptr;
  for (const ast::Action& a : rule.actions) {
    if (a.kind == AK::kUnknown) {
      unknown("unknown-action", "action", a.argument, kActionWords);
      continue;
    }
    if (terminal) {
      auto& d = diags_.error(is_terminal(a.kind) ? "two-terminals" : "modifier-after-terminal", a.range,
                             is_terminal(a.kind)
                                 ? fmt::format("a rule has exactly one terminal action, and '{}' "
                                               "is a second one",
                                               ast::action_keyword(a.kind))
                                 : fmt::format("modifier '{}' comes after the terminal action; put "
                                               "modifiers first",
                                               ast::action_keyword(a.kind)));
      d.notes.push_back({terminal->range, "the terminal action"});
      continue;
    }
    if (!is_terminal(a.kind) && !out.modifiers.range.valid()) out.modifiers.range = a.range;
    switch (a.kind) {
      case AK::kTag: out.modifiers.tags.push_back(tag_index(a.argument.text)); break;
      case AK::kLog: out.modifiers.log = true; break;
      case AK::kNoRecurse: out.modifiers.no_recurse = true; break;
      case AK::kSetCd: out.modifiers.set_cd = true; break;
      case AK::kNoCache: out.modifiers.no_cache = true; break;
      case AK::kDelay:
        if (a.delay_ms < 1 || a.delay_ms > 10'000) {
          diags_.error("out-of-range", a.range, "delay must be 1ms to 10s");
        }
        out.modifiers.delay_ms = a.delay_ms;
        break;
      default:
        terminal = &a;
        out.terminal = to_terminal(a.kind);
        out.range = a.range;
        break;
    }
    if (!terminal) continue;
    switch (a.kind) {
      case AK::kPool: out.pool = pool_ref(a.argument); break;
      case AK::kRcode:
        if (auto rc = rcode(a.argument.text, a.argument.range)) out.rcode = *rc;
        break;
      case AK::kLua:
        out.lua_function = a.argument.text;
        lua_uses_.push_back({a.argument.text, "action", a.argument.range});
        break;
      case AK::kSpoof: {
        if (a.ttl) {
          if (*a.ttl < 0 || *a.ttl > 2'147'483'647) {
            diags_.error("out-of-range", a.ttl_range, "a TTL is 0 to 2147483647 seconds");
          } else {
            out.ttl = static_cast<uint32_t>(*a.ttl);
          }
        }
        bool has_cname = false;
        for (const ast::SpoofRecordAst& r : a.records) {
          SpoofRecord rec;
          rec.text = r.type.text + " " + r.value.text;
          auto want = [&](bool ok, const char* what) {
            if (!ok) {
              diags_.error("bad-spoof", r.value.range,
                           fmt::format("a spoofed {} record takes {}", r.type.text, what));
            }
            return ok;
          };
          if (r.type.text == "A") {
            if (!want(r.value.kind == ast::Value::Kind::kNetmask && r.value.netmask.address.is_v4() &&
                          r.value.netmask.prefix < 0,
                      "an IPv4 address")) continue;
            rec.type = qtype::kA;
            rec.data.assign(r.value.netmask.address.bytes, r.value.netmask.address.bytes + 4);
          } else if (r.type.text == "AAAA") {
            if (!want(r.value.kind == ast::Value::Kind::kNetmask && r.value.netmask.address.is_v6() &&
                          r.value.netmask.prefix < 0,
                      "an IPv6 address")) continue;
            rec.type = qtype::kAAAA;
            rec.data.assign(r.value.netmask.address.bytes, r.value.netmask.address.bytes + 16);
          } else if (r.type.text == "CNAME") {
            if (!want(r.value.kind == ast::Value::Kind::kString, "a name in quotes")) continue;
            auto name = dns_name(r.value.text, r.value.range);
            if (!name) continue;
            uint8_t wire[256];
            size_t len = encode_name(*name, wire, sizeof wire);
            rec.type = qtype::kCNAME;
            rec.data.assign(wire, wire + len);
            has_cname = true;
          } else if (r.type.text == "TXT") {
            if (!want(r.value.kind == ast::Value::Kind::kString, "a string")) continue;
            if (r.value.text.size() > 4000) {
              diags_.error("bad-spoof", r.value.range, "a spoofed TXT record is at most 4000 bytes");
              continue;
            }
            rec.type = qtype::kTXT;
            rec.data.assign(r.value.text.begin(), r.value.text.end());
          } else {
            unknown("bad-spoof", "spoofable record type", r.type, {"A", "AAAA", "CNAME", "TXT"});
            continue;
          }
          out.records.push_back(std::move(rec));
        }
        if (has_cname && out.records.size() > 1) {
          diags_.error("bad-spoof", a.range,
                       "a spoofed CNAME cannot stand beside other records (RFC 1034 3.6.2)");
        }
        break;
      }
      default:
        break;
    }
  }
  bool unknown_seen = std::any_of(rule.actions.begin(), rule.actions.end(),
                                  [](const ast::Action& a) { return a.kind == AK::kUnknown; });
  if (!terminal && !unknown_seen) {
    diags_.error("no-terminal", rule.name.range,
                 fmt::format("rule '{}' has no terminal action; end it with pool, drop, refuse, "
                             "rcode, truncate, spoof, allow or lua",
                             rule.name.text));
  }
  return out;
}

void Analyzer::check_catch_all() {
  if (model_.rules.empty()) {
    diags_.error("no-default-rule", diag::SourceRange{ast_.file, 0, 0},
                 "the policy has no rules; every policy ends with a rule that matches every "
                 "query, like 'rule default: true => pool main;'");
    return;
  }
  const Rule& last = model_.rules.back();
  bool catch_all = last.condition.kind == Cond::Kind::kTrue;
  if (!catch_all || last.action.terminal == Terminal::kTruncate) {
    auto& d = diags_.error(
        "no-default-rule", last.name_range,
        catch_all ? fmt::format("the last rule, '{}', truncates, which does not decide over TCP; "
                                "end the policy with a rule that decides every query",
                                last.name)
                  : fmt::format("the last rule, '{}', does not match every query, so some queries "
                                "would have no verdict; end the policy with a catch-all rule",
                                last.name));
    d.notes.push_back({{}, "for example: rule default: true => pool main;"});
  }
}

void Analyzer::analyze_response_rules() {
  for (const ast::RuleDecl& decl : ast_.response_rules) {
    ResponseRule rule;
    rule.name = decl.name.text;
    rule.range = decl.range;
    rule.condition = analyze_response_condition(*decl.condition);
    bool terminal_seen = false;
    for (const ast::Action& a : decl.actions) {
      if (terminal_seen) {
        diags_.error("modifier-after-terminal", a.range, "nothing may follow a response rule's terminal action");
        continue;
      }
      switch (a.kind) {
        case AK::kTag: rule.modifiers.tags.push_back(tag_index(a.argument.text)); break;
        case AK::kLog: rule.modifiers.log = true; break;
        case AK::kDrop: rule.terminal = ResponseTerminal::kDrop; terminal_seen = true; break;
        case AK::kTruncate: rule.terminal = ResponseTerminal::kTruncate; terminal_seen = true; break;
        case AK::kRcode:
          rule.terminal = ResponseTerminal::kRcode;
          terminal_seen = true;
          if (auto rc = rcode(a.argument.text, a.argument.range)) rule.rcode = *rc;
          break;
        case AK::kLua:
          rule.terminal = ResponseTerminal::kLua;
          terminal_seen = true;
          rule.lua_function = a.argument.text;
          lua_uses_.push_back({a.argument.text, "response action", a.argument.range});
          break;
        case AK::kUnknown:
          unknown("unknown-action", "response action", a.argument, {"drop", "truncate", "rcode", "tag", "log", "lua"});
          break;
        default:
          diags_.error("bad-response-action", a.range,
                       fmt::format("'{}' is not a response action; use drop, truncate, rcode, tag, "
                                   "log or lua",
                                   ast::action_keyword(a.kind)));
      }
    }
    model_.response_rules.push_back(std::move(rule));
  }
}

ResponseCond Analyzer::analyze_response_condition(const ast::Expr& e) {
  using RK = ResponseCond::Kind;
  ResponseCond c;
  c.range = e.range;
  if (e.kind == ast::Expr::Kind::kAnd || e.kind == ast::Expr::Kind::kOr || e.kind == ast::Expr::Kind::kNot) {
    c.kind = e.kind == ast::Expr::Kind::kAnd ? RK::kAnd : e.kind == ast::Expr::Kind::kOr ? RK::kOr : RK::kNot;
    for (const auto& child : e.children) c.children.push_back(analyze_response_condition(*child));
    return c;
  }
  const std::string& f = e.field.text;
  bool response_field = f == "rcode" || f == "answers" || f == "latency" || f == "response.size";
  if (!response_field) {
    c.kind = RK::kQuery;
    c.query = std::make_shared<Cond>(analyze_condition(e, false, true));
    return c;
  }
  if (e.kind != ast::Expr::Kind::kCompare) {
    diags_.error("bad-operator", e.range, fmt::format("'{}' takes a comparison", f));
    return c;
  }
  c.compare = static_cast<Compare>(e.op);
  if (f == "rcode") {
    c.kind = RK::kRcode;
    if (e.op != ast::CompareOp::kEq && e.op != ast::CompareOp::kNe) {
      diags_.error("bad-operator", e.range, "'rcode' takes == or !=");
    } else if (e.value.kind != ast::Value::Kind::kIdent) {
      diags_.error("bad-value", e.value.range, "expected an rcode name, like SERVFAIL");
    } else if (auto rc = rcode(e.value.text, e.value.range)) {
      c.number = *rc;
    }
  } else if (f == "latency") {
    c.kind = RK::kLatencyMs;
    if (e.value.kind != ast::Value::Kind::kDuration) {
      diags_.error("bad-value", e.value.range, "latency is compared with a duration, like 100ms");
    } else {
      c.number = e.value.duration_ms;
    }
  } else {
    c.kind = f == "answers" ? RK::kAnswerCount : RK::kSize;
    if (in_range(e.value, 0, 65535, f.c_str())) c.number = static_cast<uint64_t>(e.value.integer);
  }
  return c;
}

void Analyzer::analyze_dynblocks() {
  for (const ast::DynBlockDecl& decl : ast_.dynblocks) {
    DynBlock b;
    b.name = decl.name.text;
    b.range = decl.range;
    const std::string& m = decl.measure.text;
    if (m == "queries") b.measure = Measure::kQueries;
    else if (m == "servfail") b.measure = Measure::kServfail;
    else if (m == "nxdomain") b.measure = Measure::kNxdomain;
    else if (m == "bytes") b.measure = Measure::kResponseBytes;
    else if (m == "qtype") b.measure = Measure::kQtype;
    else unknown("unknown-measure", "measure", decl.measure, {"queries", "servfail", "nxdomain", "bytes", "qtype"});
    if (b.measure == Measure::kQtype) {
      if (!decl.measure_arg) {
        diags_.error("bad-measure", decl.measure.range, "'qtype' needs a type, like 'qtype ANY'");
      } else if (auto t = qtype(decl.measure_arg->text, decl.measure_arg->range)) {
        b.qtype = *t;
      }
    } else if (decl.measure_arg) {
      diags_.error("bad-measure", decl.measure_arg->range,
                   fmt::format("'{}' takes no argument", m));
    }
    if (!decl.bound.invalid && decl.bound.number <= 0) {
      diags_.error("out-of-range", decl.bound.range, "the bound must be above 0 per second");
    }
    b.bound_per_second = decl.bound.number;
    if (decl.per.text != "src") {
      diags_.error("bad-qps-group", decl.per.range, "dynamic blocks group by 'src' only");
    }
    if (decl.per_v4 > 32 || decl.per_v6 > 128) {
      diags_.error("bad-prefix", decl.per_range, "prefix lengths are at most /32 (IPv4) and /128 (IPv6)");
    }
    if (decl.per_v4 >= 0) b.v4_prefix = static_cast<uint8_t>(std::min(decl.per_v4, 32));
    if (decl.per_v6 >= 0) b.v6_prefix = static_cast<uint8_t>(std::min(decl.per_v6, 128));
    if (decl.window_ms < 1000 || decl.window_ms > 3'600'000 || decl.window_ms % 1000 != 0) {
      diags_.error("out-of-range", decl.window_range,
                   "the window is whole seconds from 1s to 1h (blocks are evaluated every second)");
    }
    b.window_ms = decl.window_ms;
    if (decl.duration_ms < 1000 || decl.duration_ms > 7 * 86'400'000ull) {
      diags_.error("out-of-range", decl.duration_range, "a block lasts 1s to 7d");
    }
    b.duration_ms = decl.duration_ms;
    switch (decl.action.kind) {
      case AK::kPool: b.action = BlockAction::kPool; b.pool = pool_ref(decl.action.argument); break;
      case AK::kDrop: b.action = BlockAction::kDrop; break;
      case AK::kRefuse: b.action = BlockAction::kRefuse; break;
      case AK::kTruncate: b.action = BlockAction::kTruncate; break;
      case AK::kNoRecurse: b.action = BlockAction::kNoRecurse; break;
      default:
        diags_.error("bad-block-action", decl.action.range,
                     "a dynamic block's action is pool NAME, drop, refuse, truncate or no_recurse");
    }
    for (const ast::Netmask& n : decl.except) {
      if (auto p = prefix(n)) b.except.push_back(*p);
    }
    model_.dynblocks.push_back(std::move(b));
  }
}

}  // namespace dnspc::sema
