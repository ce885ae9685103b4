// From the prefix to BPF instructions: the library's bitcode (built into
// dnspc, lib/xdp_lib.c) linked with the generated functions, every function
// but the program inlined into it, LLVM's O2 pipeline for the BPF target,
// then the object's program section taken as it is. The loader does no
// relocation, so an object that needs one (a constant pool, a call left
// out of line) is refused here with its name, not sent to the kernel.
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "btf.h"
#include "decide_builder.h"
#include "dnspc/bpf/kernel_code.h"

extern "C" const unsigned char dnspc_xdp_lib_bitcode[];
extern "C" const unsigned long dnspc_xdp_lib_bitcode_size;

namespace dnspc::bpf {

namespace {

constexpr const char* kProgramName = "dnspc_xdp";
constexpr const char* kProgramSection = "xdp";

std::unique_ptr<llvm::TargetMachine> bpf_target(const std::string& triple, std::string& error) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeBPFTargetInfo();
    LLVMInitializeBPFTarget();
    LLVMInitializeBPFTargetMC();
    LLVMInitializeBPFAsmPrinter();
  });
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return nullptr;
  llvm::TargetOptions options;
  return std::unique_ptr<llvm::TargetMachine>(
      target->createTargetMachine(triple, "v3", "", options, std::nullopt, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

void optimize(llvm::Module& module, llvm::TargetMachine* target) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // No unrolling or vectorising: the verifier walks every copy of a loop
  // body, so unrolled code costs verification budget and gains little.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = false;
  tuning.SLPVectorization = false;
  tuning.LoopUnrolling = false;
  llvm::PassBuilder pb(target, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  mpm.run(module, mam);
}

struct Linked {
  std::unique_ptr<llvm::LLVMContext> context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module;
  std::unique_ptr<llvm::TargetMachine> target;
};

bool link(const ir::Program& program, const kernel::KernelPrefix& prefix, const kernel::KernelTables& tables,
          const MapFds& fds, Linked& out, std::string& error) {
  llvm::MemoryBufferRef bitcode(
      llvm::StringRef(reinterpret_cast<const char*>(dnspc_xdp_lib_bitcode), dnspc_xdp_lib_bitcode_size), "xdp_lib.bc");
  auto lib = llvm::parseBitcodeFile(bitcode, *out.context);
  if (!lib) {
    error = "the built-in BPF library does not load: " + llvm::toString(lib.takeError());
    return false;
  }
  out.module = std::move(*lib);
  out.target = bpf_target(out.module->getTargetTriple(), error);
  if (!out.target) {
    error = "LLVM has no BPF target: " + error;
    return false;
  }
  auto generated = std::make_unique<llvm::Module>("dnspc_kernel_decide", *out.context);
  generated->setDataLayout(out.module->getDataLayout());
  generated->setTargetTriple(out.module->getTargetTriple());
  build_map_function(*generated, fds);
  build_decide_function(*generated, program, prefix, tables);
  if (llvm::Linker::linkModules(*out.module, std::move(generated))) {
    error = "linking the decision code with the BPF library failed";
    return false;
  }
  // One function in the end: the loader relocates nothing, so no call may
  // stay out of line.
  for (llvm::Function& f : *out.module) {
    if (f.isDeclaration() || f.getName() == kProgramName) continue;
    f.setLinkage(llvm::GlobalValue::InternalLinkage);
    if (f.hasAddressTaken()) continue;  // a bpf_loop callback: a subprogram of its own
    f.removeFnAttr(llvm::Attribute::NoInline);
    f.addFnAttr(llvm::Attribute::AlwaysInline);
  }
  std::string verify;
  llvm::raw_string_ostream os(verify);
  if (llvm::verifyModule(*out.module, &os)) {
    error = "the generated BPF module is malformed: " + verify;
    return false;
  }
  optimize(*out.module, out.target.get());
  return true;
}

// The program's instructions: its section, then the subprograms in .text
// (bpf_loop's callbacks), with the references between them resolved as the
// kernel wants them (BPF_PSEUDO_FUNC and BPF_PSEUDO_CALL, relative to the
// next instruction). Any other relocation (a constant pool, a global) is
// refused: the loader passes no data section to the kernel.
bool program_section(const llvm::SmallVectorImpl<char>& object, std::vector<uint64_t>& insns,
                     std::vector<uint32_t>& subprograms, std::string& error) {
  auto file = llvm::object::ObjectFile::createObjectFile(
      llvm::MemoryBufferRef(llvm::StringRef(object.data(), object.size()), "dnspc_xdp.o"));
  if (!file) {
    error = "the BPF object does not read back: " + llvm::toString(file.takeError());
    return false;
  }
  llvm::object::ObjectFile& obj = **file;
  std::map<uint64_t, size_t> base;  // section index -> its first instruction in `insns`
  auto append = [&](const llvm::object::SectionRef& s) -> bool {
    auto contents = s.getContents();
    if (!contents) {
      error = llvm::toString(contents.takeError());
      return false;
    }
    base[s.getIndex()] = insns.size();
    size_t at = insns.size();
    insns.resize(at + contents->size() / 8);
    std::memcpy(insns.data() + at, contents->data(), contents->size() / 8 * 8);
    return true;
  };
  std::optional<llvm::object::SectionRef> program, text;
  for (const llvm::object::SectionRef& s : obj.sections()) {
    auto name = s.getName();
    if (!name) {
      llvm::consumeError(name.takeError());
      continue;
    }
    if (*name == kProgramSection) program = s;
    if (*name == ".text" && s.getSize() > 0) text = s;
  }
  if (!program) {
    error = "the BPF object has no program section";
    return false;
  }
  insns.clear();
  if (!append(*program) || (text && !append(*text))) return false;
  subprograms.assign(1, 0);
  if (text) {
    for (const llvm::object::SymbolRef& sym : obj.symbols()) {
      auto type = sym.getType();
      auto section = sym.getSection();
      auto value = sym.getValue();
      if (!type || !section || !value) {
        if (!type) llvm::consumeError(type.takeError());
        if (!section) llvm::consumeError(section.takeError());
        if (!value) llvm::consumeError(value.takeError());
        continue;
      }
      if (*type != llvm::object::SymbolRef::ST_Function || *section == obj.section_end() ||
          (*section)->getIndex() != text->getIndex()) {
        continue;
      }
      subprograms.push_back(static_cast<uint32_t>(base[text->getIndex()] + *value / 8));
    }
    std::sort(subprograms.begin() + 1, subprograms.end());
  }

  for (const llvm::object::SectionRef& s : obj.sections()) {
    auto target = s.getRelocatedSection();
    if (!target) {
      llvm::consumeError(target.takeError());
      continue;
    }
    if (*target == obj.section_end() || !base.count((*target)->getIndex())) continue;
    const size_t target_base = base[(*target)->getIndex()];
    for (const llvm::object::RelocationRef& r : s.relocations()) {
      auto symbol = r.getSymbol();
      std::string name = "?";
      std::optional<size_t> symbol_base;
      uint64_t symbol_value = 0;
      if (symbol != obj.symbol_end()) {
        if (auto n = symbol->getName()) name = n->str();
        else llvm::consumeError(n.takeError());
        auto section = symbol->getSection();
        if (section && *section != obj.section_end() && base.count((*section)->getIndex())) {
          symbol_base = base[(*section)->getIndex()];
        } else if (!section) {
          llvm::consumeError(section.takeError());
        }
        if (auto value = symbol->getValue()) symbol_value = *value;
        else llvm::consumeError(value.takeError());
      }
      const size_t at = target_base + r.getOffset() / 8;
      if (!symbol_base || at >= insns.size()) {
        error = "the generated BPF code refers to `" + name + "`, which is not code; dnspc's loader passes no data, so this is a dnspc bug";
        return false;
      }
      uint64_t& insn = insns[at];
      const uint8_t opcode = insn & 0xff;
      const int32_t imm = static_cast<int32_t>(insn >> 32);
      int64_t destination;
      uint8_t pseudo;
      if (opcode == 0x18) {  // ld_imm64 of a function's address: a bpf_loop callback
        destination = static_cast<int64_t>(*symbol_base) + static_cast<int64_t>((symbol_value + imm) / 8);
        pseudo = 4;  // BPF_PSEUDO_FUNC
      } else if (opcode == 0x85) {  // call
        destination = static_cast<int64_t>(*symbol_base) + static_cast<int64_t>(symbol_value / 8) + imm + 1;
        pseudo = 1;  // BPF_PSEUDO_CALL
      } else {
        error = "the generated BPF code has a relocation dnspc's loader does not know (opcode " +
                std::to_string(opcode) + ", symbol " + name + "); this is a dnspc bug";
        return false;
      }
      const int64_t relative = destination - static_cast<int64_t>(at) - 1;
      const uint8_t registers = static_cast<uint8_t>(((insn >> 8) & 0x0f) | (pseudo << 4));
      insn = (insn & 0xffull) | (uint64_t{registers} << 8) | (insn & 0xffff0000ull) |
             (uint64_t{static_cast<uint32_t>(static_cast<int32_t>(relative))} << 32);
    }
  }
  return true;
}

size_t count_instructions(const llvm::Module& m) {
  size_t n = 0;
  for (const llvm::Function& f : m) n += f.getInstructionCount();
  return n;
}

}  // namespace

bool generate(const ir::Program& program, const kernel::KernelPrefix& prefix, const kernel::KernelTables& tables,
              const MapFds& fds, KernelCode& out, std::string& error) {
  const auto start = std::chrono::steady_clock::now();
  Linked linked;
  if (!link(program, prefix, tables, fds, linked, error)) return false;
  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (linked.target->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "LLVM's BPF target cannot emit an object file";
    return false;
  }
  pm.run(*linked.module);
  if (!program_section(object, out.instructions, out.subprograms, error)) return false;
  out.btf = subprogram_btf(out.subprograms.size());
  out.ir_instructions = count_instructions(*linked.module);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

std::string emit_llvm(const ir::Program& program, const kernel::KernelPrefix& prefix,
                      const kernel::KernelTables& tables, const MapFds& fds, std::string& error) {
  Linked linked;
  if (!link(program, prefix, tables, fds, linked, error)) return {};
  std::string text;
  llvm::raw_string_ostream os(text);
  linked.module->print(os, nullptr);
  return text;
}

}  // namespace dnspc::bpf
