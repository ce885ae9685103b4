// The policy's abstract syntax tree, as written: every node keeps its source
// range, nothing is resolved or defaulted yet (that is sema's job). The ANTLR
// parse tree never leaves the transformer that builds this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dnspc/diag/source.h"
#include "dnspc/net_address.h"

namespace dnspc::ast {

using diag::SourceRange;

struct Name {
  std::string text;
  SourceRange range;
};

// An address with an optional port (`192.0.2.1:53`, `[::1]:53`, `::1`).
struct Endpoint {
  NetAddress address;
  bool has_port = false;
  SourceRange range;
};

// An address with an optional prefix length (`10.0.0.0/8`, `::1`).
struct Netmask {
  NetAddress address;
  int prefix = -1;  // -1: none written (a single host)
  SourceRange range;
};

// A literal value whose meaning depends on where it stands.
struct Value {
  enum class Kind { kString, kInt, kFloat, kDuration, kIdent, kBool, kNetmask, kEndpoint };
  Kind kind = Kind::kInt;
  std::string text;        // the string's contents (unescaped), the identifier, or the token
  int64_t integer = 0;     // kInt; kBool: 0 or 1
  double number = 0;       // kFloat, and kInt as a double
  uint64_t duration_ms = 0;  // kDuration
  Netmask netmask;         // kNetmask
  Endpoint endpoint;       // kEndpoint
  // Already reported as malformed (an integer too large, ...): checks that
  // would complain again about the same token stay quiet.
  bool invalid = false;
  SourceRange range;
};
const char* value_kind_name(Value::Kind k);

struct ListenStmt {
  std::vector<Endpoint> endpoints;
  SourceRange range;
};

struct AclStmt {
  std::vector<Netmask> netmasks;
  SourceRange range;
};

// console / web (an endpoint) and control (a Unix socket path).
struct EndpointStmt {
  enum class Kind { kConsole, kWeb, kControl };
  Kind kind = Kind::kConsole;
  Endpoint endpoint;
  std::string path;
  SourceRange range;
};

struct LuaFileStmt {
  std::string path;
  SourceRange range;
};

struct OptionStmt {
  Name name;
  Value value;
  SourceRange range;
};

// `xdp "eth0" mode native;` (docs/xdp.md): the interface as written
// (unescaped), then its settings, checked by name in sema.
struct XdpAttr {
  Name name;
  Value value;
  SourceRange range;
};
struct XdpStmt {
  std::string interface;
  SourceRange interface_range;
  std::vector<XdpAttr> settings;
  SourceRange range;
};

struct ServerAttr {
  Name name;
  std::vector<Value> values;
  SourceRange range;
};

struct ServerDecl {
  Endpoint endpoint;
  std::vector<ServerAttr> attrs;
  SourceRange range;
};

struct PoolSetting {
  Name name;
  std::optional<Value> value;
  SourceRange range;
  std::vector<ServerAttr> attrs;  // `cache 10000 max_ttl 1h`: the named values after the first
};

struct PoolDecl {
  Name name;
  std::optional<Name> policy;  // load-balancing policy as written
  bool policy_is_lua = false;  // `policy lua FUNCTION;`
  SourceRange policy_range;
  std::vector<ServerDecl> servers;
  std::vector<PoolSetting> settings;
  SourceRange range;
};

enum class SetKind { kSuffixes, kNames, kNetmasks, kQtypes };
const char* set_kind_name(SetKind k);

struct SetDecl {
  SetKind kind = SetKind::kSuffixes;
  Name name;
  std::vector<Value> entries;      // inline entries
  std::optional<std::string> file;  // `file "path"`
  SourceRange file_range;
  SourceRange range;
};

// `qname`, `edns.do`, `qname.labels`: a dotted field name.
struct Field {
  std::string text;  // dotted, as written
  SourceRange range;
};

// What `in` refers to: a named set, one netmask, or an inline list.
struct SetRef {
  std::optional<Name> name;
  std::vector<Value> values;
  SourceRange range;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };
const char* compare_op_text(CompareOp op);

struct Expr {
  enum class Kind {
    kAnd, kOr, kNot,  // children
    kTrue, kFalse,
    kQps,             // qps > rate [burst N] [per src/a/b]
    kProbability,     // probability p
    kTagged,          // tagged "name"
    kLua,             // lua FUNCTION
    kSuffix,          // field suffix "name"
    kRegex,           // field ~ /re/
    kIn,              // field in set
    kCompare,         // field op value
    kFlag,            // field (a boolean field)
  };
  Kind kind = Kind::kTrue;
  SourceRange range;
  std::vector<std::unique_ptr<Expr>> children;
  Field field;
  CompareOp op = CompareOp::kEq;
  Value value;      // compare: the right side; qps: the rate; probability: p
  SetRef set;       // in
  std::string text;  // suffix name, regex pattern (without slashes), tag, Lua function
  SourceRange text_range;
  // qps
  std::optional<int64_t> burst;
  SourceRange burst_range;
  std::optional<Name> per;  // `per src`
  int per_v4 = -1, per_v6 = -1;
  SourceRange per_range;
};

struct SpoofRecordAst {
  Name type;
  Value value;
  SourceRange range;
};

struct Action {
  enum class Kind {
    kPool, kDrop, kRefuse, kRcode, kTruncate, kSpoof, kAllow, kLua,  // terminal
    kTag, kLog, kDelay, kNoRecurse, kSetCd, kNoCache,                          // modifiers
    kUnknown,
  };
  Kind kind = Kind::kDrop;
  Name argument;  // pool, rcode name, Lua function, tag, or the unknown word
  std::vector<SpoofRecordAst> records;
  std::optional<int64_t> ttl;
  SourceRange ttl_range;
  uint64_t delay_ms = 0;
  SourceRange range;
};
bool is_terminal(Action::Kind k);
const char* action_keyword(Action::Kind k);

struct RuleDecl {
  Name name;
  std::unique_ptr<Expr> condition;
  std::vector<Action> actions;
  bool response = false;
  SourceRange range;
};

struct DynBlockDecl {
  Name name;
  Name measure;                  // queries, servfail, nxdomain, bytes, qtype
  std::optional<Name> measure_arg;  // the qtype for `qtype X`
  Value bound;                   // per second
  Name per;                      // src
  int per_v4 = -1, per_v6 = -1;
  SourceRange per_range;
  uint64_t window_ms = 0;
  SourceRange window_range;
  Action action;
  uint64_t duration_ms = 0;
  SourceRange duration_range;
  std::vector<Netmask> except;
  SourceRange range;
};

struct Policy {
  diag::FileId file = diag::kNoFile;
  std::vector<ListenStmt> listens;
  std::vector<AclStmt> acls;
  std::vector<EndpointStmt> endpoints;
  std::vector<LuaFileStmt> lua_files;
  std::vector<OptionStmt> options;
  std::vector<PoolDecl> pools;
  std::vector<SetDecl> sets;
  std::vector<RuleDecl> rules;
  std::vector<RuleDecl> response_rules;
  std::vector<DynBlockDecl> dynblocks;
  std::vector<XdpStmt> xdps;
};

}  // namespace dnspc::ast
