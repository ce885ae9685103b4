// The JIT itself (private to dnspc_jit): LLVM ORC LLJIT with one JITDylib
// and resource tracker per compiled policy, so a policy's code and data are
// freed while others run. llvm::Expected/Error inside; Engine turns them
// into our own messages at the library's boundary.
#pragma once

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/Target/TargetMachine.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace dnspc::jit {

// One compiled policy's place in the JIT.
struct Handle {
  llvm::orc::JITDylib* dylib = nullptr;
  llvm::orc::ResourceTrackerSP tracker;
  uint64_t entry = 0;  // address of the entry function, once looked up
};

class Jit {
 public:
  // A JIT for this host (O2 code generation); no process symbols are
  // visible to compiled code, only the probe allowlist.
  static llvm::Expected<std::unique_ptr<Jit>> create();

  // A target machine like the JIT's, for the O2 pipeline and the module's
  // data layout.
  llvm::Expected<std::unique_ptr<llvm::TargetMachine>> target_machine() const;

  // Adds `module` in a JITDylib of its own, whose only other symbols are
  // the allowlisted probes, under a resource tracker of its own.
  llvm::Expected<Handle> add(llvm::orc::ThreadSafeModule module);

  // Looks up `name` in the handle's JITDylib (compiling and linking the
  // module on first use) and records it as the handle's entry.
  llvm::Error lookup(Handle& handle, llvm::StringRef name);

  // Frees the code and data of `handle` (no-op for an empty handle).
  llvm::Error remove(Handle& handle);

 private:
  explicit Jit(llvm::orc::JITTargetMachineBuilder machine) : machine_(std::move(machine)) {}

  llvm::orc::JITTargetMachineBuilder machine_;
  std::unique_ptr<llvm::orc::LLJIT> lljit_;
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace dnspc::jit
