#include "ir_inspect.h"

#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

namespace dnspc::testing {

IrReport inspect_ir(const std::string& text) {
  IrReport r;
  llvm::LLVMContext context;
  llvm::SMDiagnostic diag;
  std::unique_ptr<llvm::Module> m = llvm::parseAssemblyString(text, diag, context);
  if (!m) {
    llvm::raw_string_ostream out(r.error);
    diag.print("emitted", out);
    return r;
  }
  r.global_variables = m->global_size();
  for (const llvm::Function& f : *m) {
    if (f.isDeclaration()) continue;
    ++r.defined_functions;
    if (f.hasExternalLinkage()) r.exported.push_back(f.getName().str());
    for (const llvm::BasicBlock& bb : f) {
      for (const llvm::Instruction& inst : bb) {
        ++r.instructions;
        for (const llvm::Use& op : inst.operands()) {
          if (llvm::isa<llvm::BlockAddress>(op.get())) ++r.blockaddresses;
        }
        if (const auto* call = llvm::dyn_cast<llvm::CallBase>(&inst)) {
          const llvm::Function* callee = call->getCalledFunction();
          if (callee == nullptr) {
            ++r.indirect_calls;
          } else if (callee->isDeclaration()) {
            ++r.callees[callee->getName().str()];
          }
        } else if (llvm::isa<llvm::IndirectBrInst>(inst)) {
          ++r.indirect_branches;
        } else if (const auto* sw = llvm::dyn_cast<llvm::SwitchInst>(&inst)) {
          r.switch_cases.push_back(sw->getNumCases());
        }
      }
    }
  }
  return r;
}

}  // namespace dnspc::testing
