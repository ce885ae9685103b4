// The generated half of the XDP program, in LLVM IR (docs/xdp.md):
//
//   ptr @dnspc_k_map(i32 id)
//     the map with that id, as the loader wants it: an ld_imm64 of the map's
//     file descriptor (llvm.bpf.pseudo, BPF_PSEUDO_MAP_FD);
//   i32 @dnspc_k_decide(ptr %view)
//     the prefix's general rules in order, each a short-circuit branch tree
//     over the view's fields (dnspc_k_view, read at offsetof() positions),
//     the lookups' bits and the library's tests (regex, rates, random);
//     returns the first rule that holds, or the best folded rule the
//     lookups found (view->best) once no earlier general rule can hold.
#include "decide_builder.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsBPF.h>
#include <llvm/IR/Module.h>

#include <cstddef>

namespace dnspc::bpf {

namespace {

using kernel::dnspc_k_view;
using kernel::RuleFold;

class DecideBuilder {
 public:
  DecideBuilder(llvm::Module& m, const ir::Program& p, const kernel::KernelPrefix& prefix,
                const kernel::KernelTables& tables)
      : m_(m), ctx_(m.getContext()), b_(ctx_), p_(p), prefix_(prefix), tables_(tables) {}

  void build() {
    auto* i32 = b_.getInt32Ty();
    auto* ptr = b_.getPtrTy();
    auto* type = llvm::FunctionType::get(i32, {ptr}, false);
    fn_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, "dnspc_k_decide", m_);
    fn_->addFnAttr(llvm::Attribute::AlwaysInline);
    view_ = fn_->getArg(0);
    auto* entry = llvm::BasicBlock::Create(ctx_, "entry", fn_);
    b_.SetInsertPoint(entry);
    best_ = load_field(offsetof(dnspc_k_view, best), i32);
    bool folded_before = false;
    llvm::BasicBlock* done = nullptr;  // returns best: a folded rule before the next general one holds
    for (uint32_t r = 0; r < prefix_.rules; ++r) {
      if (prefix_.folds[r] != RuleFold::kGeneral) {
        folded_before = true;
        continue;
      }
      if (folded_before) {  // a folded rule before this one that holds wins
        auto* go_on = block("rule" + std::to_string(r));
        if (!done) {
          done = block("best");
          llvm::IRBuilder<> at(done);
          at.CreateRet(best_);
        }
        b_.CreateCondBr(b_.CreateICmpULT(best_, b_.getInt32(r)), done, go_on);
        b_.SetInsertPoint(go_on);
      }
      auto* holds = block("holds" + std::to_string(r));
      auto* next = block("next" + std::to_string(r));
      branch(p_.rules[r].root, holds, next);
      b_.SetInsertPoint(holds);
      b_.CreateRet(b_.getInt32(r));
      b_.SetInsertPoint(next);
    }
    b_.CreateRet(best_);
  }

 private:
  llvm::BasicBlock* block(const std::string& name) { return llvm::BasicBlock::Create(ctx_, name, fn_); }

  llvm::Value* load_field(size_t offset, llvm::Type* type) {
    auto* at = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), view_, offset);
    return b_.CreateLoad(type, at);
  }
  llvm::Value* field64(size_t offset, llvm::Type* type) { return b_.CreateZExt(load_field(offset, type), b_.getInt64Ty()); }

  // Control-flow code for a condition: jumps to `yes` or `no`.
  void branch(uint32_t node, llvm::BasicBlock* yes, llvm::BasicBlock* no) {
    const ir::Node& n = p_.nodes[node];
    switch (n.op) {
      case ir::Node::Op::kTest: b_.CreateCondBr(test(p_.tests[n.test], n.test), yes, no); return;
      case ir::Node::Op::kNot: branch(n.children[0], no, yes); return;
      case ir::Node::Op::kAnd:
      case ir::Node::Op::kOr: {
        const bool is_and = n.op == ir::Node::Op::kAnd;
        for (size_t i = 0; i + 1 < n.children.size(); ++i) {
          auto* next = block("c");
          branch(n.children[i], is_and ? next : yes, is_and ? no : next);
          b_.SetInsertPoint(next);
        }
        if (n.children.empty()) {
          b_.CreateBr(is_and ? yes : no);
        } else {
          branch(n.children.back(), yes, no);
        }
        return;
      }
    }
  }

  llvm::Value* compare(llvm::Value* lhs, ir::Compare op, uint64_t rhs) {
    llvm::Value* r = b_.getInt64(rhs);
    switch (op) {
      case ir::Compare::kEq: return b_.CreateICmpEQ(lhs, r);
      case ir::Compare::kNe: return b_.CreateICmpNE(lhs, r);
      case ir::Compare::kLt: return b_.CreateICmpULT(lhs, r);
      case ir::Compare::kLe: return b_.CreateICmpULE(lhs, r);
      case ir::Compare::kGt: return b_.CreateICmpUGT(lhs, r);
      case ir::Compare::kGe: return b_.CreateICmpUGE(lhs, r);
    }
    return b_.getFalse();
  }

  llvm::Value* bit_of(size_t offset, uint32_t test) {
    int bit = test < prefix_.test_bit.size() ? prefix_.test_bit[test] : -1;
    if (bit < 0) return b_.getFalse();
    auto* bits = load_field(offset, b_.getInt64Ty());
    return b_.CreateICmpNE(b_.CreateAnd(bits, b_.getInt64(uint64_t{1} << bit)), b_.getInt64(0));
  }

  llvm::FunctionCallee library(const char* name, llvm::Type* result, std::vector<llvm::Type*> args) {
    return m_.getOrInsertFunction(name, llvm::FunctionType::get(result, args, false));
  }

  llvm::Value* test(const ir::Test& t, uint32_t id) {
    auto* i8 = b_.getInt8Ty();
    auto* i16 = b_.getInt16Ty();
    auto* i32 = b_.getInt32Ty();
    auto* i64 = b_.getInt64Ty();
    auto* ptr = b_.getPtrTy();
    using K = ir::TestKind;
    switch (t.kind) {
      case K::kTrue:
      case K::kFromRule:  // the kernel always evaluates from the first rule
        return b_.getTrue();
      case K::kFalse: return b_.getFalse();
      case K::kName: return bit_of(offsetof(dnspc_k_view, name_bits), id);
      case K::kSource: return bit_of(offsetof(dnspc_k_view, source_bits), id);
      case K::kDestination: return bit_of(offsetof(dnspc_k_view, destination_bits), id);
      case K::kRegex: {
        int32_t regex = tables_.regex_of_test[id];
        auto fn = library("dnspc_k_regex_match", i32, {ptr, i32});
        auto* r = b_.CreateCall(fn, {view_, b_.getInt32(static_cast<uint32_t>(regex))});
        return b_.CreateICmpNE(r, b_.getInt32(0));
      }
      case K::kLabelCount: return compare(field64(offsetof(dnspc_k_view, label_count), i16), t.op, t.value);
      case K::kNameLength: {
        // The text form's length: 1 for the root, else the wire length - 1.
        auto* n = field64(offsetof(dnspc_k_view, name_length), i16);
        auto* text = b_.CreateSelect(b_.CreateICmpULE(n, b_.getInt64(1)), b_.getInt64(1), b_.CreateSub(n, b_.getInt64(1)));
        return compare(text, t.op, t.value);
      }
      case K::kQtype: {
        auto* q = field64(offsetof(dnspc_k_view, qtype), i16);
        llvm::Value* any = b_.getFalse();
        for (uint16_t type : p_.qtype_sets[t.table].qtypes) any = b_.CreateOr(any, b_.CreateICmpEQ(q, b_.getInt64(type)));
        return any;
      }
      case K::kQclass: return b_.CreateICmpEQ(field64(offsetof(dnspc_k_view, qclass), i16), b_.getInt64(t.value));
      case K::kOpcode: return b_.CreateICmpEQ(field64(offsetof(dnspc_k_view, opcode), i8), b_.getInt64(t.value));
      case K::kHeaderBit: {
        auto* flags = field64(offsetof(dnspc_k_view, flags), i16);
        return b_.CreateICmpNE(b_.CreateAnd(flags, b_.getInt64(t.value)), b_.getInt64(0));
      }
      case K::kEdns: return b_.CreateICmpNE(field64(offsetof(dnspc_k_view, edns_present), i8), b_.getInt64(0));
      case K::kEdnsDo: return b_.CreateICmpNE(field64(offsetof(dnspc_k_view, edns_do), i8), b_.getInt64(0));
      case K::kEdnsVersion: return compare(field64(offsetof(dnspc_k_view, edns_version), i8), t.op, t.value);
      case K::kEdnsPayload: return compare(field64(offsetof(dnspc_k_view, edns_payload), i16), t.op, t.value);
      case K::kTransport: return t.value == 0 ? b_.getTrue() : b_.getFalse();  // UDP only here
      case K::kSize: return compare(field64(offsetof(dnspc_k_view, size), i16), t.op, t.value);
      case K::kQps: {
        const kernel::KernelLimiter& l = tables_.limiters[t.table];
        llvm::Value* over;
        if (l.per_source) {
          auto fn = library("dnspc_k_source_rate_over", i32, {ptr, i32, i64, i64, i32, i32});
          over = b_.CreateCall(fn, {view_, b_.getInt32(t.table), b_.getInt64(l.interval_ns), b_.getInt64(l.tolerance_ns),
                                    b_.getInt32(l.v4_prefix), b_.getInt32(l.v6_prefix)});
        } else {
          auto fn = library("dnspc_k_rate_over", i32, {ptr, i32, i64, i64});
          over = b_.CreateCall(fn, {view_, b_.getInt32(t.table), b_.getInt64(l.interval_ns), b_.getInt64(l.tolerance_ns)});
        }
        return b_.CreateICmpNE(over, b_.getInt32(0));
      }
      case K::kProbability: {
        auto fn = library("dnspc_k_random", i64, {ptr});
        auto* r = b_.CreateCall(fn, {view_});
        if (t.value == UINT64_MAX) return b_.getTrue();  // the draw still happens, as in the interpreter
        return b_.CreateICmpULT(r, b_.getInt64(t.value));
      }
      default:
        // find_kernel_prefix keeps every other kind out of the prefix.
        return b_.getFalse();
    }
  }

  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  const ir::Program& p_;
  const kernel::KernelPrefix& prefix_;
  const kernel::KernelTables& tables_;
  llvm::Function* fn_ = nullptr;
  llvm::Value* view_ = nullptr;
  llvm::Value* best_ = nullptr;
};

}  // namespace

void build_map_function(llvm::Module& m, const MapFds& fds) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto* type = llvm::FunctionType::get(b.getPtrTy(), {b.getInt32Ty()}, false);
  auto* fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage, "dnspc_k_map", m);
  fn->addFnAttr(llvm::Attribute::AlwaysInline);
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto* fallback = llvm::BasicBlock::Create(ctx, "none", fn);
  b.SetInsertPoint(fallback);
  b.CreateRet(llvm::ConstantPointerNull::get(b.getPtrTy()));
  b.SetInsertPoint(entry);
  auto* sw = b.CreateSwitch(fn->getArg(0), fallback, fds.size());
  llvm::Function* pseudo = llvm::Intrinsic::getDeclaration(&m, llvm::Intrinsic::bpf_pseudo);
  for (size_t id = 0; id < fds.size(); ++id) {
    auto* bb = llvm::BasicBlock::Create(ctx, "map" + std::to_string(id), fn);
    sw->addCase(b.getInt32(static_cast<uint32_t>(id)), bb);
    b.SetInsertPoint(bb);
    constexpr uint64_t kPseudoMapFd = 1;  // BPF_PSEUDO_MAP_FD
    auto* fd = b.CreateCall(pseudo, {b.getInt64(kPseudoMapFd), b.getInt64(static_cast<uint64_t>(fds[id]))});
    b.CreateRet(b.CreateIntToPtr(fd, b.getPtrTy()));
  }
}

void build_decide_function(llvm::Module& m, const ir::Program& program, const kernel::KernelPrefix& prefix,
                           const kernel::KernelTables& tables) {
  DecideBuilder(m, program, prefix, tables).build();
}

}  // namespace dnspc::bpf
