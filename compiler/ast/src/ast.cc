#include "dnspc/ast/ast.h"

namespace dnspc::ast {

const char* value_kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::kString: return "a string";
    case Value::Kind::kInt: return "an integer";
    case Value::Kind::kFloat: return "a number";
    case Value::Kind::kDuration: return "a duration";
    case Value::Kind::kIdent: return "a name";
    case Value::Kind::kBool: return "true or false";
    case Value::Kind::kNetmask: return "an address or netmask";
    case Value::Kind::kEndpoint: return "an address with a port";
  }
  return "a value";
}

const char* set_kind_name(SetKind k) {
  switch (k) {
    case SetKind::kSuffixes: return "suffixes";
    case SetKind::kNames: return "names";
    case SetKind::kNetmasks: return "netmasks";
    case SetKind::kQtypes: return "qtypes";
  }
  return "set";
}

const char* compare_op_text(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "==";
    case CompareOp::kNe: return "!=";
    case CompareOp::kLt: return "<";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGt: return ">";
    case CompareOp::kGe: return ">=";
  }
  return "?";
}

bool is_terminal(Action::Kind k) {
  switch (k) {
    case Action::Kind::kPool:
    case Action::Kind::kDrop:
    case Action::Kind::kRefuse:
    case Action::Kind::kRcode:
    case Action::Kind::kTruncate:
    case Action::Kind::kSpoof:
    case Action::Kind::kAllow:
    case Action::Kind::kLua:
      return true;
    default:
      return false;
  }
}

const char* action_keyword(Action::Kind k) {
  switch (k) {
    case Action::Kind::kPool: return "pool";
    case Action::Kind::kDrop: return "drop";
    case Action::Kind::kRefuse: return "refuse";
    case Action::Kind::kRcode: return "rcode";
    case Action::Kind::kTruncate: return "truncate";
    case Action::Kind::kSpoof: return "spoof";
    case Action::Kind::kAllow: return "allow";
    case Action::Kind::kLua: return "lua";
    case Action::Kind::kTag: return "tag";
    case Action::Kind::kLog: return "log";
    case Action::Kind::kDelay: return "delay";
    case Action::Kind::kNoRecurse: return "no_recurse";
    case Action::Kind::kSetCd: return "set_cd";
    case Action::Kind::kNoCache: return "no_cache";
    case Action::Kind::kUnknown: return "?";
  }
  return "?";
}

}  // namespace dnspc::ast
