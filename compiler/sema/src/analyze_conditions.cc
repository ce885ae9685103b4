// Rule conditions: fields, operators and values resolved to typed leaves.
#include <algorithm>
#include <fmt/core.h>

#include "analyzer.h"
#include "dnspc/dns_names.h"
#include "dnspc/query_view.h"

namespace dnspc::sema {

namespace {

using ast::Expr;
using K = Cond::Kind;

Compare to_compare(ast::CompareOp op) {
  switch (op) {
    case ast::CompareOp::kEq: return Compare::kEq;
    case ast::CompareOp::kNe: return Compare::kNe;
    case ast::CompareOp::kLt: return Compare::kLt;
    case ast::CompareOp::kLe: return Compare::kLe;
    case ast::CompareOp::kGt: return Compare::kGt;
    case ast::CompareOp::kGe: return Compare::kGe;
  }
  return Compare::kEq;
}

// How a field may be used.
enum class Shape { kName, kNumber, kQtype, kQclass, kOpcode, kFlag, kAddress, kEdnsOption, kTransport };

struct FieldSpec {
  const char* name;
  Shape shape;
  K kind;
  int64_t max = 0;     // kNumber: the largest meaningful value
  uint16_t bit = 0;    // kFlag: header bit, if any
};

const std::vector<FieldSpec>& fields() {
  static const std::vector<FieldSpec> f = {
      {"qname", Shape::kName, K::kQnameEquals},
      {"qname.labels", Shape::kNumber, K::kLabelCount, 127},
      {"qname.length", Shape::kNumber, K::kNameLength, 255},
      {"qtype", Shape::kQtype, K::kQtype},
      {"qclass", Shape::kQclass, K::kQclass},
      {"opcode", Shape::kOpcode, K::kOpcode},
      {"rd", Shape::kFlag, K::kHeaderBit, 0, header_bits::kRD},
      {"cd", Shape::kFlag, K::kHeaderBit, 0, header_bits::kCD},
      {"ad", Shape::kFlag, K::kHeaderBit, 0, header_bits::kAD},
      {"ra", Shape::kFlag, K::kHeaderBit, 0, header_bits::kRA},
      {"aa", Shape::kFlag, K::kHeaderBit, 0, header_bits::kAA},
      {"tc", Shape::kFlag, K::kHeaderBit, 0, header_bits::kTC},
      {"edns", Shape::kFlag, K::kEdns},
      {"edns.do", Shape::kFlag, K::kEdnsDo},
      {"edns.version", Shape::kNumber, K::kEdnsVersion, 255},
      {"edns.payload", Shape::kNumber, K::kEdnsPayload, 65535},
      {"edns.option", Shape::kEdnsOption, K::kEdnsOption},
      {"src", Shape::kAddress, K::kSourceIn},
      {"dst", Shape::kAddress, K::kDestinationIn},
      {"udp", Shape::kFlag, K::kTransport},
      {"tcp", Shape::kFlag, K::kTransport},
      {"transport", Shape::kTransport, K::kTransport},
      {"size", Shape::kNumber, K::kPacketSize, 65535},
  };
  return f;
}

const FieldSpec* find_field(const std::string& name) {
  for (const FieldSpec& f : fields()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::vector<std::string> field_names(bool response) {
  std::vector<std::string> out;
  for (const FieldSpec& f : fields()) out.push_back(f.name);
  if (response) {
    for (const char* r : {"rcode", "answers", "latency", "response.size"}) out.push_back(r);
  }
  return out;
}

const char* set_kind_text(SetKind k) {
  switch (k) {
    case SetKind::kSuffixes: return "suffixes";
    case SetKind::kNames: return "names";
    case SetKind::kNetmasks: return "netmasks";
    case SetKind::kQtypes: return "qtypes";
  }
  return "?";
}

Cond negate(Cond c) {
  Cond n;
  n.kind = K::kNot;
  n.range = c.range;
  n.children.push_back(std::move(c));
  return n;
}

}  // namespace

Cond Analyzer::analyze_condition(const Expr& e, bool top_level_conjunct, bool response) {
  Cond c;
  c.range = e.range;
  switch (e.kind) {
    case Expr::Kind::kAnd:
    case Expr::Kind::kOr:
      c.kind = e.kind == Expr::Kind::kAnd ? K::kAnd : K::kOr;
      for (const auto& child : e.children) {
        c.children.push_back(analyze_condition(*child, top_level_conjunct && e.kind == Expr::Kind::kAnd, response));
      }
      return c;
    case Expr::Kind::kNot:
      c.kind = K::kNot;
      c.children.push_back(analyze_condition(*e.children[0], false, response));
      return c;
    case Expr::Kind::kTrue:
      c.kind = K::kTrue;
      return c;
    case Expr::Kind::kFalse:
      c.kind = K::kFalse;
      return c;
    case Expr::Kind::kQps: {
      c.kind = K::kQps;
      if (!top_level_conjunct || response) {
        diags_.error("qps-placement", e.range,
                     response ? "a QPS bound cannot appear in a response rule"
                              : "a QPS bound must be joined to the rest of its rule with 'and' at "
                                "the top level (not under 'or' or 'not'), so that it is charged "
                                "only when the rest of the rule matches");
      }
      if (!e.value.invalid && (e.value.number <= 0 || e.value.number > 1e9)) {
        diags_.error("out-of-range", e.value.range, "the QPS bound must be above 0 and at most 1e9");
      }
      c.rate = e.value.number;
      c.burst = e.value.number < 1 ? 1 : e.value.number;
      if (e.burst) {
        if (*e.burst < 1 || *e.burst > 1'000'000'000) {
          diags_.error("out-of-range", e.burst_range, "burst must be 1 to 1e9");
        } else {
          c.burst = static_cast<double>(*e.burst);
        }
      }
      if (e.per) {
        if (e.per->text != "src") {
          diags_.error("bad-qps-group", e.per->range,
                       fmt::format("QPS bounds group by 'src' only, not '{}'", e.per->text));
        }
        c.per_source = true;
        if (e.per_v4 >= 0) {
          if (e.per_v4 > 32) diags_.error("bad-prefix", e.per_range, "the IPv4 prefix length must be 0 to 32");
          c.v4_prefix = static_cast<uint8_t>(std::min(e.per_v4, 32));
        }
        if (e.per_v6 >= 0) {
          if (e.per_v6 > 128) diags_.error("bad-prefix", e.per_range, "the IPv6 prefix length must be 0 to 128");
          c.v6_prefix = static_cast<uint8_t>(std::min(e.per_v6, 128));
        }
      }
      return c;
    }
    case Expr::Kind::kProbability:
      c.kind = K::kProbability;
      c.real = e.value.number;
      if (!e.value.invalid && !(c.real > 0 && c.real <= 1)) {
        diags_.error("out-of-range", e.value.range, "a probability is above 0 and at most 1, like 0.1");
      }
      return c;
    case Expr::Kind::kTagged:
      c.kind = K::kTagged;
      c.number = static_cast<uint64_t>(tag_index(e.text));
      if (!response) {
        diags_.warning("tag-never-set", e.range,
                       fmt::format("tagged \"{}\" is always false in a query rule: tags are set "
                                   "by the rule that decides; test tags in a response rule",
                                   e.text));
      }
      return c;
    case Expr::Kind::kLua:
      c.kind = K::kLua;
      c.function = e.text;
      lua_uses_.push_back({e.text, "predicate", e.text_range});
      return c;
    default:
      return analyze_field_predicate(e);
  }
}

Cond Analyzer::analyze_field_predicate(const Expr& e) {
  Cond c;
  c.range = e.range;
  c.kind = K::kFalse;
  const FieldSpec* f = find_field(e.field.text);
  if (!f) {
    unknown("unknown-field", "field", ast::Name{e.field.text, e.field.range}, field_names(false));
    return c;
  }
  auto wrong_use = [&](const char* how) {
    diags_.error("bad-operator", e.range, fmt::format("'{}' {}", e.field.text, how));
    return c;
  };
  c.kind = f->kind;

  // Boolean fields stand alone.
  if (f->shape == Shape::kFlag) {
    if (e.kind != Expr::Kind::kFlag) return wrong_use("is a flag: use it alone, like 'rd' or 'not rd'");
    c.number = f->bit;
    if (f->kind == K::kTransport) c.number = e.field.text == "tcp" ? 1 : 0;
    return c;
  }
  if (e.kind == Expr::Kind::kFlag) {
    return wrong_use(f->shape == Shape::kAddress ? "needs 'in', like 'src in 192.0.2.0/24'"
                                                 : "needs a comparison, like '== value'");
  }

  switch (f->shape) {
    case Shape::kName:
      if (e.kind == Expr::Kind::kSuffix) {
        c.kind = K::kQnameSuffix;
        if (auto n = dns_name(e.text, e.text_range)) c.names.push_back(*n);
        return c;
      }
      if (e.kind == Expr::Kind::kRegex) {
        c.kind = K::kQnameRegex;
        c.pattern = e.text;
        c.regex = check_regex(c.pattern, e.text_range);
        return c;
      }
      if (e.kind == Expr::Kind::kIn) return analyze_in(e, K::kQnameInNames);
      if (e.kind == Expr::Kind::kCompare && (e.op == ast::CompareOp::kEq || e.op == ast::CompareOp::kNe)) {
        if (e.value.kind != ast::Value::Kind::kString) return wrong_use("is compared with a name in quotes");
        c.kind = K::kQnameEquals;
        if (auto n = dns_name(e.value.text, e.value.range)) c.names.push_back(*n);
        return e.op == ast::CompareOp::kNe ? negate(std::move(c)) : c;
      }
      return wrong_use("takes ==, !=, suffix, in or ~");
    case Shape::kNumber: {
      if (e.kind != Expr::Kind::kCompare) return wrong_use("takes a comparison, like '> 3'");
      if (!in_range(e.value, 0, f->max, e.field.text.c_str())) return c;
      c.compare = to_compare(e.op);
      c.number = static_cast<uint64_t>(e.value.integer);
      return c;
    }
    case Shape::kQtype:
      if (e.kind == Expr::Kind::kIn) return analyze_in(e, K::kQtypeIn);
      [[fallthrough]];
    case Shape::kQclass:
    case Shape::kOpcode:
    case Shape::kEdnsOption:
    case Shape::kTransport: {
      if (e.kind != Expr::Kind::kCompare || (e.op != ast::CompareOp::kEq && e.op != ast::CompareOp::kNe)) {
        return wrong_use("takes == or !=");
      }
      std::optional<uint64_t> v;
      const std::string& text = e.value.text;
      bool is_name = e.value.kind == ast::Value::Kind::kIdent;
      if (f->shape == Shape::kQtype && is_name) {
        if (auto t = qtype(text, e.value.range)) v = *t;
        else return c;
      } else if (f->shape == Shape::kQclass && is_name) {
        if (auto t = qclass_from_name(text)) v = *t;
      } else if (f->shape == Shape::kOpcode && is_name) {
        if (auto t = opcode_from_name(text)) v = *t;
      } else if (f->shape == Shape::kEdnsOption) {
        if (is_name) {
          if (auto t = edns_option_from_name(text)) v = *t;
        } else if (e.value.kind == ast::Value::Kind::kInt && e.value.integer >= 0 && e.value.integer <= 65535) {
          v = static_cast<uint64_t>(e.value.integer);
        }
      } else if (f->shape == Shape::kTransport && is_name && (text == "udp" || text == "tcp")) {
        v = text == "tcp" ? 1 : 0;
      }
      if (!v) {
        diags_.error("bad-value", e.value.range,
                     fmt::format("'{}' is not a valid value for '{}'", e.value.text, e.field.text));
        return c;
      }
      c.number = *v;
      return e.op == ast::CompareOp::kNe ? negate(std::move(c)) : c;
    }
    case Shape::kAddress:
      if (e.kind != Expr::Kind::kIn) return wrong_use("takes 'in', like 'src in 192.0.2.0/24'");
      return analyze_in(e, f->kind);
    case Shape::kFlag:
      break;
  }
  return c;
}

Cond Analyzer::analyze_in(const Expr& e, Cond::Kind kind) {
  Cond c;
  c.range = e.range;
  c.kind = kind;
  const ast::SetRef& ref = e.set;
  if (ref.name) {
    int index = model_.find_set(ref.name->text);
    if (index < 0) {
      std::vector<std::string> names;
      for (const NamedSet& s : model_.sets) names.push_back(s.name);
      unknown("unknown-set", "set", *ref.name, names);
      c.kind = K::kFalse;
      return c;
    }
    const NamedSet& set = model_.sets[index];
    bool ok = false;
    switch (kind) {
      case K::kQnameInNames:
        ok = set.kind == SetKind::kNames || set.kind == SetKind::kSuffixes;
        if (set.kind == SetKind::kSuffixes) c.kind = K::kQnameInSuffixes;
        break;
      case K::kQtypeIn: ok = set.kind == SetKind::kQtypes; break;
      default: ok = set.kind == SetKind::kNetmasks; break;
    }
    if (!ok) {
      auto& d = diags_.error("set-kind", ref.name->range,
                             fmt::format("set '{}' holds {} and cannot be used with '{}'", set.name,
                                         set_kind_text(set.kind),
                                         e.field.text));
      d.notes.push_back({set.range, "defined here"});
      c.kind = K::kFalse;
      return c;
    }
    c.set = index;
    return c;
  }
  // Inline values: names are exact names, netmasks, qtypes.
  for (const ast::Value& v : ref.values) {
    if (kind == K::kQnameInNames) {
      if (v.kind != ast::Value::Kind::kString) {
        diags_.error("bad-value", v.range, "expected a name in quotes");
      } else if (auto n = dns_name(v.text, v.range)) {
        c.names.push_back(*n);
      }
    } else if (kind == K::kQtypeIn) {
      if (v.kind != ast::Value::Kind::kIdent) {
        diags_.error("bad-value", v.range, "expected a query type, like AAAA");
      } else if (auto t = qtype(v.text, v.range)) {
        c.qtypes.push_back(*t);
      }
    } else {
      if (v.kind != ast::Value::Kind::kNetmask) {
        diags_.error("bad-value", v.range, "expected a netmask, like 192.0.2.0/24");
      } else if (auto p = prefix(v.netmask)) {
        c.prefixes.push_back(*p);
      }
    }
  }
  return c;
}

}  // namespace dnspc::sema
