// Native code for a policy: LLVM ORC LLJIT over the decision structure
// (docs/jit.md). This header is all the runtime and the tools see; no LLVM
// type crosses it.
//
//   std::string error;
//   auto engine = jit::Engine::create(error);             // once per process
//   auto native = engine->compile(optimized, error);      // per policy
//   ir::ProgramState state(optimized->program);
//   state.reserve_scratch(native->scratch_words());       // per worker
//   Verdict v = native->decide(view, state.for_query(now));
//
// A NativePolicy owns its code and data (one JITDylib and resource tracker
// each) and frees them when destroyed, while other policies keep running.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dnspc/decision_state.h"
#include "dnspc/opt/index.h"
#include "dnspc/query_view.h"
#include "dnspc/verdict.h"

namespace dnspc::codegen {
struct NativeTables;
class PolicyData;
}  // namespace dnspc::codegen

namespace dnspc::jit {

class Jit;
struct Handle;

struct CompileStats {
  double tables_s = 0;    // rows, shapes and tables (PolicyData)
  double ir_s = 0;        // building the LLVM module
  double optimize_s = 0;  // the O2 pipeline
  double jit_s = 0;       // machine code and linking (LLJIT)
  size_t shapes = 0;
  size_t ir_instructions = 0;  // after O2
  size_t data_bytes = 0;       // tables built for the code (the policy's indexes not counted)
  double total_s() const { return tables_s + ir_s + optimize_s + jit_s; }
};

class NativePolicy {
 public:
  ~NativePolicy();
  NativePolicy(const NativePolicy&) = delete;
  NativePolicy& operator=(const NativePolicy&) = delete;

  // The compiled `decide`: the same verdict as interp::interpret on the
  // program as lowered, for every query and state. Thread-safe; the state
  // is the caller's (one per worker). Uses state.scratch when it holds
  // scratch_words() words, else a buffer of the calling thread's own.
  Verdict decide(const QueryView& view, DecisionState& state) const;

  // DecisionState::scratch words decide() needs (ir::ProgramState::reserve_scratch).
  uint32_t scratch_words() const;

  // The policy it was compiled from: rule names, actions, pools, tables.
  const opt::OptimizedPolicy& policy() const { return *policy_; }
  const CompileStats& stats() const { return stats_; }

 private:
  friend class Engine;
  NativePolicy() = default;
  Verdict decide_with_own_scratch(const QueryView& view, DecisionState& state) const;

  using Entry = uint64_t (*)(const QueryView*, DecisionState*, const codegen::NativeTables*);
  Entry entry_ = nullptr;
  const codegen::NativeTables* tables_ = nullptr;
  uint32_t scratch_words_ = 0;
  std::shared_ptr<const opt::OptimizedPolicy> policy_;
  std::unique_ptr<codegen::PolicyData> data_;
  std::shared_ptr<Jit> jit_;
  std::unique_ptr<Handle> handle_;
  CompileStats stats_;
};

class Engine {
 public:
  // The JIT for this host. Returns null and sets `error` when LLVM cannot
  // target it.
  static std::unique_ptr<Engine> create(std::string& error);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Compiles a policy to native code. The NativePolicy keeps `policy` alive
  // (its code points at its tables) and may outlive the Engine. Returns null
  // and sets `error` for a policy native code cannot run ("Lua tests cannot
  // be compiled yet") or an LLVM failure. Safe to call from several threads.
  std::unique_ptr<NativePolicy> compile(std::shared_ptr<const opt::OptimizedPolicy> policy,
                                        std::string& error);

  // The module compile() would build, as LLVM IR text: after the O2
  // pipeline, or as emitted with `optimized` false. Empty with `error` set
  // when the policy cannot be compiled.
  std::string emit_llvm(const opt::OptimizedPolicy& policy, std::string& error,
                        bool optimized = true);

 private:
  Engine() = default;
  std::shared_ptr<Jit> jit_;
};

inline Verdict NativePolicy::decide(const QueryView& view, DecisionState& state) const {
  if (state.scratch_words < scratch_words_) [[unlikely]]
    return decide_with_own_scratch(view, state);
  const uint64_t bits = entry_(&view, &state, tables_);
  return std::bit_cast<Verdict>(bits);
}

inline uint32_t NativePolicy::scratch_words() const {
  return scratch_words_;
}

}  // namespace dnspc::jit
