// The LLVM side of code generation (private to dnspc_codegen and dnspc_jit:
// nothing outside them sees an LLVM type). See docs/jit.md.
#pragma once

#include <memory>
#include <string_view>

#include "dnspc/codegen/policy_data.h"

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
}  // namespace llvm

namespace dnspc::codegen {

// The one function a compiled policy exports:
//   uint64_t dnspc_decide(const QueryView*, DecisionState*, const NativeTables*)
// returning the Verdict's 8 bytes.
inline constexpr const char* kEntryName = "dnspc_decide";

// The only functions emitted code may call (besides its own internal ones):
// the stdlib probes of probes.h; dnspc_lua_predicate only in policies whose
// rules call Lua.
inline constexpr const char* kAllowedCalls[] = {"dnspc_name_probe", "dnspc_prefix_probe",
                                                "dnspc_qtype_ids", "dnspc_rate_over",
                                                "dnspc_lua_predicate"};

// Emits the decision function: code per lookup (probes, regex union loops,
// candidate lists, the merge) and one function per shape. Its size depends
// on the shapes, never on the number of rules. With `target`, the module
// takes its data layout and triple.
std::unique_ptr<llvm::Module> build_module(llvm::LLVMContext& context, const PolicyData& data,
                                           std::string_view name, llvm::TargetMachine* target);

// The O2 pipeline (PassBuilder), tuned for `target` when given.
void optimize_module(llvm::Module& module, llvm::TargetMachine* target);

// Instructions in the module's function bodies.
size_t instruction_count(const llvm::Module& module);

}  // namespace dnspc::codegen
