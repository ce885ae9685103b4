// Running case files against a compiled policy: each case is encoded to DNS
// wire format, parsed by the real codec (parse_query), decided by one
// evaluator under virtual time, and its verdict compared with the expected
// one. See docs/test-cases.md.
#pragma once

#include <functional>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dnspc/cases/case_file.h"
#include "dnspc/dynblock_spec.h"
#include "dnspc/ir/program.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/verdict.h"

namespace dnspc::cases {

// Builds the query packet of `q` (DNS message, no TCP length prefix) with
// the given ID. Returns an empty vector and sets `error` when the name is
// not a valid DNS name or the packet would exceed 65535 bytes.
std::vector<uint8_t> encode_query(const QuerySpec& q, uint16_t id, std::string& error);


// An expectation resolved against the policy: the rule it names, or for a
// dynamic block, the rule count plus the block's index (blocked verdicts sit
// past the rule list, as in the runtime).
struct BoundExpectation {
  uint32_t rule = 0;
  uint32_t count = 1;
  // A rule whose action is Lua may decide anything: what the expectation
  // wants of it (any verdict of the rule when not given).
  std::optional<ActionKind> lua_kind;
  std::optional<uint16_t> lua_argument;  // pool index or rcode, when given
};


struct BoundCase {
  const Case* source = nullptr;  // points into the CaseFile given to bind_cases
  std::vector<uint8_t> packet;   // the encoded query, shared by all repetitions
  NetAddress destination;        // the query's, or the policy's first listen address
  std::vector<BoundExpectation> expect;
};

struct BindResult {
  std::string path;  // the case file's, for messages
  std::vector<BlockSpec> blocks;  // the policy's dynamic blocks, evaluated every virtual second
  std::vector<BoundCase> cases;
  std::vector<CaseError> errors;
  bool ok() const { return errors.empty(); }
};

// Resolves rule, pool and rcode names; checks that each expected action and
// argument is the named rule's own (a rule has exactly one action, so a
// mismatch could never pass); encodes every query. The CaseFile must outlive
// the result.
BindResult bind_cases(const CaseFile& file, const pipeline::CompiledPolicy& policy);

enum class Evaluator {
  kOptimized,    // opt::evaluate over the optimised structure (what `run` does)
  kInterpreter,  // interp::interpret over the program as lowered (the oracle)
};

struct RunResult {
  size_t passed = 0, failed = 0;  // cases (lines), not queries
  size_t queries = 0;             // queries decided, repetitions included
  // One line per failure (runs of repetitions failing the same way share a
  // line): "path:line: expected rule 'x' (pool main), got rule 'y' (drop) for ...".
  std::vector<std::string> failures;
};

// Whatever decides: the program whose rules and verdicts the cases name, and
// a decision function over it (any engine: native code, the optimised
// evaluator, the interpreter).
struct Decider {
  const ir::Program* program = nullptr;
  std::function<Verdict(const QueryView&, DecisionState&)> decide;
  uint32_t scratch_words = 0;                      // for native code
  std::function<void(DecisionState&)> prepare;     // e.g. binds a Lua runtime; may be empty
  // Lua actions (`=> lua NAME`): given a verdict whose action is kLua, the
  // verdict the Lua function decided (the rule kept, its action and argument
  // replaced; kSpoof with kLuaSpoofSet), or nullopt when the call gave
  // no verdict or failed: then the rule counts as not matched and evaluation
  // resumes at the next rule (DecisionState::first_rule), as in `dnspc run`.
  // Empty: Lua verdicts stay kLua.
  std::function<std::optional<Verdict>(const Verdict&, const QueryView&, DecisionState&)> lua_action;
};

// Runs bound cases in order with a fresh ir::ProgramState (virtual clock at
// 0) and, when the policy has dynamic blocks, a fresh block engine evaluated
// at every whole virtual second; blocks are checked before the rules.
RunResult run_cases(const Decider& decider, const BindResult& bound);
// The same with the interpreter or the C++ optimised evaluator.
RunResult run_cases(const pipeline::CompiledPolicy& policy, const BindResult& bound, Evaluator evaluator);

// "rule 'default' (pool main)": how failures show a verdict. With the
// policy's blocks, a blocked verdict reads "block 'nuisance' (pool abuse)".
std::string describe_verdict(const ir::Program& program, const Verdict& verdict);
std::string describe_verdict(const ir::Program& program, const std::vector<BlockSpec>& blocks,
                             const Verdict& verdict);

// "pool main", "lua silence: rcode NXDOMAIN": what a rule's verdict does.
std::string verdict_action_text(const ir::Program& program, const Verdict& verdict);

// Block specs of this size for dnspc test: counters per block and second.
constexpr uint32_t kCaseBlockCapacity = 4096;

}  // namespace dnspc::cases
