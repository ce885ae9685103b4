// Engine and NativePolicy: the JIT behind our own error strings.
#include "dnspc/jit/native.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <vector>

#include "dnspc/codegen/policy_data.h"
#include "jit.h"
#include "module_builder.h"

namespace dnspc::jit {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point& t) {
  const Clock::time_point now = Clock::now();
  const double s = std::chrono::duration<double>(now - t).count();
  t = now;
  return s;
}

std::string message(llvm::Error err) {
  return "native code: " + llvm::toString(std::move(err));
}

}  // namespace

NativePolicy::~NativePolicy() {
  if (jit_ && handle_) llvm::consumeError(jit_->remove(*handle_));
}

Verdict NativePolicy::decide_with_own_scratch(const QueryView& view, DecisionState& state) const {
  thread_local std::vector<uint32_t> buffer;
  if (buffer.size() < scratch_words_) buffer.resize(scratch_words_);
  uint32_t* const saved = state.scratch;
  const uint32_t saved_words = state.scratch_words;
  state.scratch = buffer.data();
  state.scratch_words = static_cast<uint32_t>(buffer.size());
  const uint64_t bits = entry_(&view, &state, tables_);
  state.scratch = saved;
  state.scratch_words = saved_words;
  return std::bit_cast<Verdict>(bits);
}

Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::create(std::string& error) {
  auto jit = Jit::create();
  if (!jit) {
    error = message(jit.takeError());
    return nullptr;
  }
  std::unique_ptr<Engine> engine(new Engine());
  engine->jit_ = std::move(*jit);
  return engine;
}

std::unique_ptr<NativePolicy> Engine::compile(std::shared_ptr<const opt::OptimizedPolicy> policy,
                                              std::string& error) {
  CompileStats stats;
  Clock::time_point t = Clock::now();
  std::unique_ptr<codegen::PolicyData> data = codegen::PolicyData::build(policy, error);
  if (!data) return nullptr;
  stats.tables_s = seconds_since(t);
  stats.shapes = data->shapes().size();
  stats.data_bytes = data->data_bytes();

  auto machine = jit_->target_machine();
  if (!machine) {
    error = message(machine.takeError());
    return nullptr;
  }
  auto context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module =
      codegen::build_module(*context, *data, "policy", machine->get());
  std::string broken;
  llvm::raw_string_ostream out(broken);
  if (llvm::verifyModule(*module, &out)) {
    error = "native code: internal error: the emitted IR is invalid: " + broken;
    return nullptr;
  }
  stats.ir_s = seconds_since(t);
  codegen::optimize_module(*module, machine->get());
  stats.ir_instructions = codegen::instruction_count(*module);
  stats.optimize_s = seconds_since(t);

  auto handle = jit_->add(llvm::orc::ThreadSafeModule(std::move(module), std::move(context)));
  if (!handle) {
    error = message(handle.takeError());
    return nullptr;
  }
  if (llvm::Error err = jit_->lookup(*handle, codegen::kEntryName)) {
    error = message(std::move(err));
    llvm::consumeError(jit_->remove(*handle));
    return nullptr;
  }
  stats.jit_s = seconds_since(t);

  std::unique_ptr<NativePolicy> native(new NativePolicy());
  native->entry_ = reinterpret_cast<NativePolicy::Entry>(static_cast<uintptr_t>(handle->entry));
  native->tables_ = &data->tables();
  native->scratch_words_ = data->scratch_words();
  native->policy_ = std::move(policy);
  native->data_ = std::move(data);
  native->jit_ = jit_;
  native->handle_ = std::make_unique<Handle>(std::move(*handle));
  native->stats_ = stats;
  return native;
}

std::string Engine::emit_llvm(const opt::OptimizedPolicy& policy, std::string& error,
                              bool optimized) {
  // Not owned: the data lives only while this call does.
  std::shared_ptr<const opt::OptimizedPolicy> view(std::shared_ptr<const opt::OptimizedPolicy>(),
                                                   &policy);
  std::unique_ptr<codegen::PolicyData> data = codegen::PolicyData::build(view, error);
  if (!data) return {};
  auto machine = jit_->target_machine();
  if (!machine) {
    error = message(machine.takeError());
    return {};
  }
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module =
      codegen::build_module(context, *data, "policy", machine->get());
  if (optimized) codegen::optimize_module(*module, machine->get());
  std::string text;
  llvm::raw_string_ostream out(text);
  module->print(out, nullptr);
  out.flush();
  return text;
}

}  // namespace dnspc::jit
