#include "jit.h"

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/Support/TargetSelect.h>

#include <mutex>
#include <string>

#include "dnspc/probes.h"

namespace dnspc::jit {

namespace {

// The allowlist (module_builder.h's kAllowedCalls) with addresses: the only
// symbols a policy's JITDylib defines besides its own code.
struct Allowed {
  const char* name;
  uintptr_t address;
};
const Allowed kAllowed[] = {
    {"dnspc_name_probe", reinterpret_cast<uintptr_t>(&dnspc_name_probe)},
    {"dnspc_prefix_probe", reinterpret_cast<uintptr_t>(&dnspc_prefix_probe)},
    {"dnspc_qtype_ids", reinterpret_cast<uintptr_t>(&dnspc_qtype_ids)},
    {"dnspc_rate_over", reinterpret_cast<uintptr_t>(&dnspc_rate_over)},
    {"dnspc_lua_predicate", reinterpret_cast<uintptr_t>(&dnspc_lua_predicate)},
};

}  // namespace

llvm::Expected<std::unique_ptr<Jit>> Jit::create() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto machine = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machine) return machine.takeError();
  machine->setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);  // -O2 instruction selection
  std::unique_ptr<Jit> jit(new Jit(*machine));
  auto lljit = llvm::orc::LLJITBuilder()
                   .setJITTargetMachineBuilder(std::move(*machine))
                   .setLinkProcessSymbolsByDefault(false)
                   .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
                   .create();
  if (!lljit) return lljit.takeError();
  jit->lljit_ = std::move(*lljit);
  return jit;
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>> Jit::target_machine() const {
  llvm::orc::JITTargetMachineBuilder machine = machine_;  // createTargetMachine() is not const
  return machine.createTargetMachine();
}

llvm::Expected<Handle> Jit::add(llvm::orc::ThreadSafeModule module) {
  llvm::orc::ExecutionSession& session = lljit_->getExecutionSession();
  Handle h;
  h.dylib = &session.createBareJITDylib("policy." + std::to_string(next_id_++));
  llvm::orc::SymbolMap allowed;
  for (const Allowed& a : kAllowed) {
    allowed[lljit_->mangleAndIntern(a.name)] = {
        llvm::orc::ExecutorAddr(a.address),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  }
  h.tracker = h.dylib->createResourceTracker();
  llvm::Error err = h.dylib->define(llvm::orc::absoluteSymbols(std::move(allowed)));
  if (!err) err = lljit_->addIRModule(h.tracker, std::move(module));
  if (err) return llvm::joinErrors(std::move(err), remove(h));
  return h;
}

llvm::Error Jit::lookup(Handle& h, llvm::StringRef name) {
  auto address = lljit_->lookup(*h.dylib, name);
  if (!address) return address.takeError();
  h.entry = address->getValue();
  return llvm::Error::success();
}

llvm::Error Jit::remove(Handle& h) {
  if (h.dylib == nullptr) return llvm::Error::success();
  llvm::Error err = h.tracker->remove();
  llvm::Error dylib_err = lljit_->getExecutionSession().removeJITDylib(*h.dylib);
  h.dylib = nullptr;
  h.tracker.reset();
  h.entry = 0;
  return llvm::joinErrors(std::move(err), std::move(dylib_err));
}

}  // namespace dnspc::jit
