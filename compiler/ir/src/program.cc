#include "dnspc/ir/program.h"

namespace dnspc::ir {

bool compare(uint64_t lhs, Compare op, uint64_t rhs) {
  switch (op) {
    case Compare::kEq: return lhs == rhs;
    case Compare::kNe: return lhs != rhs;
    case Compare::kLt: return lhs < rhs;
    case Compare::kLe: return lhs <= rhs;
    case Compare::kGt: return lhs > rhs;
    case Compare::kGe: return lhs >= rhs;
  }
  return false;
}

const char* compare_text(Compare op) {
  switch (op) {
    case Compare::kEq: return "==";
    case Compare::kNe: return "!=";
    case Compare::kLt: return "<";
    case Compare::kLe: return "<=";
    case Compare::kGt: return ">";
    case Compare::kGe: return ">=";
  }
  return "?";
}

const char* test_kind_name(TestKind k) {
  switch (k) {
    case TestKind::kTrue: return "true";
    case TestKind::kFalse: return "false";
    case TestKind::kName: return "qname";
    case TestKind::kRegex: return "regex";
    case TestKind::kLabelCount: return "qname.labels";
    case TestKind::kNameLength: return "qname.length";
    case TestKind::kQtype: return "qtype";
    case TestKind::kQclass: return "qclass";
    case TestKind::kOpcode: return "opcode";
    case TestKind::kHeaderBit: return "header bit";
    case TestKind::kEdns: return "edns";
    case TestKind::kEdnsDo: return "edns.do";
    case TestKind::kEdnsVersion: return "edns.version";
    case TestKind::kEdnsPayload: return "edns.payload";
    case TestKind::kEdnsOption: return "edns.option";
    case TestKind::kSource: return "src";
    case TestKind::kDestination: return "dst";
    case TestKind::kTransport: return "transport";
    case TestKind::kSize: return "size";
    case TestKind::kQps: return "qps";
    case TestKind::kProbability: return "probability";
    case TestKind::kTagged: return "tagged";
    case TestKind::kLua: return "lua";
    case TestKind::kResponseRcode: return "rcode";
    case TestKind::kAnswerCount: return "answers";
    case TestKind::kLatency: return "latency";
    case TestKind::kResponseSize: return "response.size";
    case TestKind::kFromRule: return "from rule";
  }
  return "?";
}

bool is_stateful(TestKind k) {
  return k == TestKind::kQps || k == TestKind::kProbability || k == TestKind::kLua;
}

Verdict Program::verdict_of(uint32_t rule) const {
  const RuleAction& a = rules[rule].action;
  return Verdict{rule, a.terminal, a.modifiers, a.argument};
}

Verdict Program::no_match_verdict() const {
  return Verdict{static_cast<uint32_t>(rules.size()), responses ? ActionKind::kAllow : ActionKind::kDrop, 0, 0};
}

}  // namespace dnspc::ir
