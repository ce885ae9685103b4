// The decision function in LLVM IR (docs/jit.md). Code is emitted once per
// lookup and once per rule shape; rules are rows of data (PolicyData), so
// the module's size depends on the shapes, never on the number of rules.
//
//   i64 @dnspc_decide(ptr %view, ptr %state, ptr %tables)
//     1. probes into scratch: name (dnspc_name_probe), source and destination
//        (dnspc_prefix_probe), qtype ids (inline below 256, dnspc_qtype_ids
//        above), each regex union's DFA run natively over the name's text form;
//     2. candidate lists: always-rules, lazy-regex rules when labels hold
//        dots, and the rules filed under each fact;
//     3. a k-way merge in ascending rule order; per candidate, a switch on
//        its shape id calls that shape's function with the rule's row;
//     4. the first true rule's verdict, from its record.
//   Each probe is skipped when an exact negative filter (a bitmap, data)
//   says it can only report nothing.
//   i1 @shape.N(ptr %view, ptr %state, ptr %tables, ptr %facts, ptr %row)
//     the condition tree of shape N, short-circuit, children in the
//     program's order; leaves read the view at offsetof() positions, facts
//     by binary search, lazy regexes by a native DFA loop.
#include "module_builder.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/StandardInstrumentations.h>
#include <llvm/Target/TargetMachine.h>

#include <cstddef>
#include <functional>
#include <string>

#include "dnspc/decision_state.h"
#include "dnspc/query_view.h"

namespace dnspc::codegen {

namespace {

using ir::TestKind;
using llvm::BasicBlock;
using llvm::Function;
using llvm::Value;
using opt::TestSource;

// The Facts struct decide() fills and shape functions read (LLVM-only).
enum FactField : unsigned {
  kFactNames,
  kFactNameCount,
  kFactSources,
  kFactSourceCount,
  kFactDestinations,
  kFactDestinationCount,
  kFactQtypes,
  kFactQtypeCount,
  kFactUnionStates,
};

class Emitter {
 public:
  Emitter(llvm::LLVMContext& ctx, llvm::Module& m, const PolicyData& data)
      : ctx_(ctx), m_(m), data_(data), b_(ctx) {
    i1_ = b_.getInt1Ty();
    i8_ = b_.getInt8Ty();
    i16_ = b_.getInt16Ty();
    i32_ = b_.getInt32Ty();
    i64_ = b_.getInt64Ty();
    ptr_ = b_.getPtrTy();
    invariant_ = llvm::MDNode::get(ctx_, {});
    facts_ty_ = llvm::StructType::create(
        ctx_, {ptr_, i32_, ptr_, i32_, ptr_, i32_, ptr_, i32_, ptr_}, "facts");
  }

  void emit() {
    declare_probes();
    contains_ = emit_contains();
    dfa_run_ = emit_dfa_run();
    edns_option_ = emit_edns_option();
    for (uint32_t s = 0; s < data_.shapes().size(); ++s) shape_fns_.push_back(emit_shape(s));
    emit_decide();
  }

 private:
  // ------------------------------------------------------------ helpers

  Function* internal_function(llvm::Type* ret, llvm::ArrayRef<llvm::Type*> params,
                              const std::string& name) {
    Function* f = Function::Create(llvm::FunctionType::get(ret, params, false),
                                   llvm::GlobalValue::InternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    return f;
  }

  BasicBlock* block(const char* name) {
    return BasicBlock::Create(ctx_, name, b_.GetInsertBlock()->getParent());
  }

  Value* byte_gep(Value* base, uint64_t offset) {
    return offset == 0 ? base : b_.CreateConstInBoundsGEP1_64(i8_, base, offset);
  }

  // A load from the view or the state (may change between calls).
  Value* load(llvm::Type* ty, Value* base, uint64_t offset, const char* name = "") {
    return b_.CreateLoad(ty, byte_gep(base, offset), name);
  }

  // A load from the policy's tables: immutable while the code exists.
  Value* load_const(llvm::Type* ty, Value* pointer, const char* name = "") {
    llvm::LoadInst* l = b_.CreateLoad(ty, pointer, name);
    l->setMetadata(llvm::LLVMContext::MD_invariant_load, invariant_);
    return l;
  }
  Value* table(llvm::Type* ty, Value* tables, uint64_t offset, const char* name = "") {
    return load_const(ty, byte_gep(tables, offset), name);
  }
  Value* element(llvm::Type* ty, Value* array, Value* index, const char* name = "") {
    return load_const(ty, b_.CreateInBoundsGEP(ty, array, b_.CreateZExt(index, i64_)), name);
  }

  Value* umin(Value* a, Value* c) { return b_.CreateSelect(b_.CreateICmpULT(a, c), a, c); }

  // for (i = begin; i < end; ++i) body(i), on i32; body may add blocks.
  void for_range(Value* begin, Value* end, const std::function<void(Value*)>& body) {
    BasicBlock* pre = b_.GetInsertBlock();
    BasicBlock* head = block("loop");
    BasicBlock* body_bb = block("loop.body");
    BasicBlock* exit = block("loop.end");
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::PHINode* i = b_.CreatePHI(i32_, 2, "i");
    i->addIncoming(begin, pre);
    b_.CreateCondBr(b_.CreateICmpULT(i, end), body_bb, exit);
    b_.SetInsertPoint(body_bb);
    body(i);
    i->addIncoming(b_.CreateAdd(i, b_.getInt32(1)), b_.GetInsertBlock());
    b_.CreateBr(head);
    b_.SetInsertPoint(exit);
  }

  // if (cond) then(); on one path, joining after.
  void if_then(Value* cond, const std::function<void()>& then) {
    BasicBlock* then_bb = block("then");
    BasicBlock* join = block("endif");
    b_.CreateCondBr(cond, then_bb, join);
    b_.SetInsertPoint(then_bb);
    then();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
  }

  // ------------------------------------------------------------ declarations

  void declare_probes() {
    auto declare = [&](const char* name, llvm::Type* ret, llvm::ArrayRef<llvm::Type*> params) {
      Function* f = Function::Create(llvm::FunctionType::get(ret, params, false),
                                     llvm::GlobalValue::ExternalLinkage, name, m_);
      f->addFnAttr(llvm::Attribute::NoUnwind);
      return f;
    };
    // uint32_t dnspc_name_probe(const NameIndex*, const QueryView*, uint32_t* out, uint32_t cap)
    name_probe_ = declare("dnspc_name_probe", i32_, {ptr_, ptr_, ptr_, i32_});
    // uint32_t dnspc_prefix_probe(const PrefixIndex*, const NetAddress*, uint32_t* out, uint32_t
    // cap)
    prefix_probe_ = declare("dnspc_prefix_probe", i32_, {ptr_, ptr_, ptr_, i32_});
    // const uint32_t* dnspc_qtype_ids(const QtypeIndex*, uint16_t qtype, uint32_t* count)
    qtype_ids_ = declare("dnspc_qtype_ids", ptr_, {ptr_, i16_, ptr_});
    qtype_ids_->addParamAttr(1, llvm::Attribute::ZExt);
    // uint32_t dnspc_rate_over(DecisionState*, const RateSpec*, uint32_t limiter, uint32_t
    // per_source,
    //                          const NetAddress* source)
    rate_over_ = declare("dnspc_rate_over", i32_, {ptr_, ptr_, i32_, i32_, ptr_});
    // uint32_t dnspc_lua_predicate(DecisionState*, uint32_t function, const QueryView*)
    lua_predicate_ = declare("dnspc_lua_predicate", i32_, {ptr_, i32_, ptr_});
  }

  // i1 contains(ptr ids, i32 n, i32 key): binary search of a sorted list.
  Function* emit_contains() {
    Function* f = internal_function(i1_, {ptr_, i32_, i32_}, "contains");
    Value* ids = f->getArg(0);
    Value* n = f->getArg(1);
    Value* key = f->getArg(2);
    BasicBlock* entry = BasicBlock::Create(ctx_, "entry", f);
    BasicBlock* head = BasicBlock::Create(ctx_, "search", f);
    BasicBlock* body = BasicBlock::Create(ctx_, "probe", f);
    BasicBlock* below = BasicBlock::Create(ctx_, "below", f);
    BasicBlock* not_below = BasicBlock::Create(ctx_, "not_below", f);
    BasicBlock* found = BasicBlock::Create(ctx_, "found", f);
    BasicBlock* missing = BasicBlock::Create(ctx_, "missing", f);
    b_.SetInsertPoint(entry);
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::PHINode* lo = b_.CreatePHI(i32_, 3, "lo");
    llvm::PHINode* hi = b_.CreatePHI(i32_, 3, "hi");
    lo->addIncoming(b_.getInt32(0), entry);
    hi->addIncoming(n, entry);
    b_.CreateCondBr(b_.CreateICmpULT(lo, hi), body, missing);
    b_.SetInsertPoint(body);
    Value* mid = b_.CreateLShr(b_.CreateAdd(lo, hi), 1, "mid");
    Value* v = element(i32_, ids, mid, "v");
    b_.CreateCondBr(b_.CreateICmpULT(v, key), below, not_below);
    b_.SetInsertPoint(below);
    lo->addIncoming(b_.CreateAdd(mid, b_.getInt32(1)), below);
    hi->addIncoming(hi, below);
    b_.CreateBr(head);
    b_.SetInsertPoint(not_below);
    lo->addIncoming(lo, not_below);
    hi->addIncoming(mid, not_below);
    b_.CreateCondBr(b_.CreateICmpEQ(v, key), found, head);
    b_.SetInsertPoint(found);
    b_.CreateRet(b_.getInt1(true));
    b_.SetInsertPoint(missing);
    b_.CreateRet(b_.getInt1(false));
    return f;
  }

  // i32 dfa_run(ptr dfa, ptr view): the DFA over the name's text form, as
  // dfa_run_qname(): each label's bytes then a '.', "." for the root; stops
  // in a sink state.
  Function* emit_dfa_run() {
    Function* f = internal_function(i32_, {ptr_, ptr_}, "dfa_run");
    f->addFnAttr(llvm::Attribute::NoInline);  // one copy, called per union and per lazy regex
    Value* dfa = f->getArg(0);
    Value* view = f->getArg(1);
    BasicBlock* entry = BasicBlock::Create(ctx_, "entry", f);
    b_.SetInsertPoint(entry);
    Value* next = table(ptr_, dfa, offsetof(NativeDfa, next), "next");
    Value* classes = table(ptr_, dfa, offsetof(NativeDfa, byte_class), "byte_class");
    Value* class_count = table(i32_, dfa, offsetof(NativeDfa, class_count), "class_count");
    Value* start = table(i32_, dfa, offsetof(NativeDfa, start), "start");
    Value* sinks = table(i32_, dfa, offsetof(NativeDfa, sink_count), "sinks");
    Value* labels =
        b_.CreateZExt(load(i8_, view, offsetof(QueryView, label_count), "labels"), i32_);
    Value* offsets = byte_gep(view, offsetof(QueryView, label_offsets));
    Value* name = byte_gep(view, offsetof(QueryView, qname_lower));
    auto step = [&](Value* state, Value* byte) {
      Value* cls = b_.CreateZExt(element(i8_, classes, b_.CreateZExt(byte, i32_)), i32_);
      Value* index = b_.CreateAdd(b_.CreateMul(state, class_count), cls);
      return b_.CreateZExt(element(i16_, next, index), i32_);
    };

    BasicBlock* root = BasicBlock::Create(ctx_, "root", f);
    BasicBlock* root_step = BasicBlock::Create(ctx_, "root.step", f);
    BasicBlock* outer = BasicBlock::Create(ctx_, "label", f);
    BasicBlock* outer_body = BasicBlock::Create(ctx_, "label.body", f);
    BasicBlock* inner = BasicBlock::Create(ctx_, "byte", f);
    BasicBlock* inner_body = BasicBlock::Create(ctx_, "byte.body", f);
    BasicBlock* label_done = BasicBlock::Create(ctx_, "label.done", f);
    BasicBlock* done = BasicBlock::Create(ctx_, "done", f);
    b_.CreateCondBr(b_.CreateICmpEQ(labels, b_.getInt32(0)), root, outer);

    // The root name: its text form is ".".
    b_.SetInsertPoint(root);
    b_.CreateCondBr(b_.CreateICmpUGE(start, sinks), root_step, done);
    b_.SetInsertPoint(root_step);
    Value* root_state = step(start, b_.getInt8('.'));
    b_.CreateBr(done);

    // for (k = 0; k < labels && state >= sinks; ++k)
    b_.SetInsertPoint(outer);
    llvm::PHINode* k = b_.CreatePHI(i32_, 2, "k");
    llvm::PHINode* state = b_.CreatePHI(i32_, 2, "state");
    k->addIncoming(b_.getInt32(0), entry);
    state->addIncoming(start, entry);
    b_.CreateCondBr(b_.CreateAnd(b_.CreateICmpULT(k, labels), b_.CreateICmpUGE(state, sinks)),
                    outer_body, done);
    b_.SetInsertPoint(outer_body);
    Value* begin =
        b_.CreateAdd(b_.CreateZExt(load_offset(offsets, k), i32_), b_.getInt32(1), "begin");
    Value* end = b_.CreateZExt(load_offset(offsets, b_.CreateAdd(k, b_.getInt32(1))), i32_, "end");
    // Not a view parse_query made: read no further (as dfa_run_qname).
    b_.CreateCondBr(b_.CreateICmpULT(end, begin), done, inner);

    // for (i = begin; i <= end && s >= sinks; ++i): label bytes, then '.' at i == end.
    b_.SetInsertPoint(inner);
    llvm::PHINode* i = b_.CreatePHI(i32_, 2, "i");
    llvm::PHINode* s = b_.CreatePHI(i32_, 2, "s");
    i->addIncoming(begin, outer_body);
    s->addIncoming(state, outer_body);
    b_.CreateCondBr(b_.CreateAnd(b_.CreateICmpULE(i, end), b_.CreateICmpUGE(s, sinks)), inner_body,
                    label_done);
    b_.SetInsertPoint(inner_body);
    Value* raw = b_.CreateLoad(i8_, b_.CreateInBoundsGEP(i8_, name, b_.CreateZExt(i, i64_)), "c");
    Value* c = b_.CreateSelect(b_.CreateICmpEQ(i, end), b_.getInt8('.'), raw);
    Value* s2 = step(s, c);
    i->addIncoming(b_.CreateAdd(i, b_.getInt32(1)), inner_body);
    s->addIncoming(s2, inner_body);
    b_.CreateBr(inner);

    b_.SetInsertPoint(label_done);
    k->addIncoming(b_.CreateAdd(k, b_.getInt32(1)), label_done);
    state->addIncoming(s, label_done);
    b_.CreateBr(outer);

    b_.SetInsertPoint(done);
    llvm::PHINode* result = b_.CreatePHI(i32_, 4, "result");
    result->addIncoming(start, root);
    result->addIncoming(root_state, root_step);
    result->addIncoming(state, outer);
    result->addIncoming(state, outer_body);
    b_.CreateRet(result);
    return f;
  }

  Value* load_offset(Value* offsets, Value* k) {
    return b_.CreateLoad(i8_, b_.CreateInBoundsGEP(i8_, offsets, b_.CreateZExt(k, i64_)));
  }

  // i1 edns_option(ptr view, i64 code): as eval_test's kEdnsOption.
  Function* emit_edns_option() {
    Function* f = internal_function(i1_, {ptr_, i64_}, "edns_option");
    Value* view = f->getArg(0);
    Value* code = f->getArg(1);
    BasicBlock* entry = BasicBlock::Create(ctx_, "entry", f);
    BasicBlock* bits = BasicBlock::Create(ctx_, "bits", f);
    BasicBlock* scan = BasicBlock::Create(ctx_, "scan", f);
    BasicBlock* head = BasicBlock::Create(ctx_, "scan.head", f);
    BasicBlock* body = BasicBlock::Create(ctx_, "scan.body", f);
    BasicBlock* yes = BasicBlock::Create(ctx_, "yes", f);
    BasicBlock* no = BasicBlock::Create(ctx_, "no", f);
    b_.SetInsertPoint(entry);
    b_.CreateCondBr(b_.CreateICmpULT(code, b_.getInt64(64)), bits, scan);
    b_.SetInsertPoint(bits);
    Value* word = load(i64_, view, offsetof(QueryView, edns_option_bits), "option_bits");
    b_.CreateRet(b_.CreateTrunc(b_.CreateLShr(word, code), i1_));
    b_.SetInsertPoint(scan);
    Value* count = b_.CreateZExt(load(i8_, view, offsetof(QueryView, edns_option_count)), i32_);
    Value* n = umin(count, b_.getInt32(kMaxRecordedEdnsOptions));
    Value* options = byte_gep(view, offsetof(QueryView, edns_options));
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::PHINode* i = b_.CreatePHI(i32_, 2, "i");
    i->addIncoming(b_.getInt32(0), scan);
    b_.CreateCondBr(b_.CreateICmpULT(i, n), body, no);
    b_.SetInsertPoint(body);
    Value* opt = b_.CreateLoad(i16_, b_.CreateInBoundsGEP(i16_, options, b_.CreateZExt(i, i64_)));
    i->addIncoming(b_.CreateAdd(i, b_.getInt32(1)), body);
    b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateZExt(opt, i64_), code), yes, head);
    b_.SetInsertPoint(yes);
    b_.CreateRet(b_.getInt1(true));
    b_.SetInsertPoint(no);
    b_.CreateRet(b_.getInt1(false));
    return f;
  }

  // ------------------------------------------------------------ shapes

  static constexpr size_t kMaxOptimisedShapeNodes = 512;

  struct ShapeArgs {
    Value* view;
    Value* state;
    Value* tables;
    Value* facts;
    Value* row;
  };

  Function* emit_shape(uint32_t id) {
    const Shape& shape = data_.shapes()[id];
    Function* f =
        internal_function(i1_, {ptr_, ptr_, ptr_, ptr_, ptr_}, "shape." + std::to_string(id));
    if (shape.nodes.size() > kMaxOptimisedShapeNodes) {
      // A condition of thousands of terms that no union could fold (a
      // generated rule): O2 on one function that size takes minutes
      // (IndVarSimplify, SCEV), and a reload must not. Compiled as written
      // instead, in time linear in its size; only such a rule pays.
      f->addFnAttr(llvm::Attribute::OptimizeNone);
      f->addFnAttr(llvm::Attribute::NoInline);
    }
    ShapeArgs a{f->getArg(0), f->getArg(1), f->getArg(2), f->getArg(3), f->getArg(4)};
    BasicBlock* entry = BasicBlock::Create(ctx_, "entry", f);
    BasicBlock* yes = BasicBlock::Create(ctx_, "true", f);
    BasicBlock* no = BasicBlock::Create(ctx_, "false", f);
    b_.SetInsertPoint(entry);
    emit_node(shape, 0, a, yes, no);
    b_.SetInsertPoint(yes);
    b_.CreateRet(b_.getInt1(true));
    b_.SetInsertPoint(no);
    b_.CreateRet(b_.getInt1(false));
    return f;
  }

  // Branches to `yes` when node `n` holds, else to `no`; short-circuit in
  // the children's order, as the interpreter evaluates them.
  void emit_node(const Shape& shape, uint32_t n, const ShapeArgs& a, BasicBlock* yes,
                 BasicBlock* no) {
    const ShapeNode& node = shape.nodes[n];
    switch (node.op) {
      case ir::Node::Op::kTest:
        b_.CreateCondBr(emit_leaf(node, a), yes, no);
        return;
      case ir::Node::Op::kNot:
        emit_node(shape, node.children.at(0), a, no, yes);
        return;
      case ir::Node::Op::kAnd:
      case ir::Node::Op::kOr: {
        const bool is_and = node.op == ir::Node::Op::kAnd;
        if (node.children.empty()) {
          b_.CreateBr(is_and ? yes : no);
          return;
        }
        for (size_t i = 0; i < node.children.size(); ++i) {
          const bool last = i + 1 == node.children.size();
          BasicBlock* next = last ? nullptr : block(is_and ? "and.next" : "or.next");
          if (is_and) {
            emit_node(shape, node.children[i], a, last ? yes : next, no);
          } else {
            emit_node(shape, node.children[i], a, yes, last ? no : next);
          }
          if (next) b_.SetInsertPoint(next);
        }
        return;
      }
    }
  }

  Value* compare(ir::Compare op, Value* lhs, Value* rhs) {
    switch (op) {
      case ir::Compare::kEq:
        return b_.CreateICmpEQ(lhs, rhs);
      case ir::Compare::kNe:
        return b_.CreateICmpNE(lhs, rhs);
      case ir::Compare::kLt:
        return b_.CreateICmpULT(lhs, rhs);
      case ir::Compare::kLe:
        return b_.CreateICmpULE(lhs, rhs);
      case ir::Compare::kGt:
        return b_.CreateICmpUGT(lhs, rhs);
      case ir::Compare::kGe:
        return b_.CreateICmpUGE(lhs, rhs);
    }
    return b_.getInt1(false);
  }

  Value* contains_fact(const ShapeArgs& a, FactField list, FactField count, Value* test) {
    Value* ids = b_.CreateLoad(ptr_, b_.CreateStructGEP(facts_ty_, a.facts, list));
    Value* n = b_.CreateLoad(i32_, b_.CreateStructGEP(facts_ty_, a.facts, count));
    return b_.CreateCall(contains_, {ids, n, test});
  }

  Value* view_u64(const ShapeArgs& a, uint64_t offset, llvm::Type* ty) {
    return b_.CreateZExt(load(ty, a.view, offset), i64_);
  }

  // A field of DecisionState::response, at its offset within ResponseFacts.
  Value* state_u64(const ShapeArgs& a, uint64_t offset, llvm::Type* ty) {
    return b_.CreateZExtOrBitCast(load(ty, a.state, offsetof(DecisionState, response) + offset),
                                  i64_);
  }

  Value* emit_leaf(const ShapeNode& n, const ShapeArgs& a) {
    auto word = [&](uint32_t k) {
      return load_const(i64_, b_.CreateConstInBoundsGEP1_64(i64_, a.row, n.param + k), "param");
    };
    switch (n.source) {
      case TestSource::kNames:
        return contains_fact(a, kFactNames, kFactNameCount, b_.CreateTrunc(word(0), i32_));
      case TestSource::kSources:
        return contains_fact(a, kFactSources, kFactSourceCount, b_.CreateTrunc(word(0), i32_));
      case TestSource::kDestinations:
        return contains_fact(a, kFactDestinations, kFactDestinationCount,
                             b_.CreateTrunc(word(0), i32_));
      case TestSource::kQtypes:
        return contains_fact(a, kFactQtypes, kFactQtypeCount, b_.CreateTrunc(word(0), i32_));
      case TestSource::kRegexUnion: {
        // Its union's final state (run once per query in decide), then the
        // state's accepted tests.
        Value* w = word(0);
        Value* u = b_.CreateTrunc(w, i32_, "union");
        Value* test = b_.CreateTrunc(b_.CreateLShr(w, 32), i32_, "test");
        Value* states =
            b_.CreateLoad(ptr_, b_.CreateStructGEP(facts_ty_, a.facts, kFactUnionStates));
        Value* s = b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, states, b_.CreateZExt(u, i64_)),
                                 "state");
        Value* unions = table(ptr_, a.tables, offsetof(NativeTables, unions));
        Value* dfa = b_.CreateInBoundsGEP(
            i8_, unions, b_.CreateMul(b_.CreateZExt(u, i64_), b_.getInt64(sizeof(NativeDfa))));
        Value* base = table(i32_, dfa, offsetof(NativeDfa, accept_base));
        Value* index = b_.CreateAdd(base, s);
        Value* begin_table = table(ptr_, a.tables, offsetof(NativeTables, union_accept_begin));
        Value* begin = element(i32_, begin_table, index);
        Value* end = element(i32_, begin_table, b_.CreateAdd(index, b_.getInt32(1)));
        Value* tests = table(ptr_, a.tables, offsetof(NativeTables, union_accept_tests));
        Value* list = b_.CreateInBoundsGEP(i32_, tests, b_.CreateZExt(begin, i64_));
        return b_.CreateCall(contains_, {list, b_.CreateSub(end, begin), test});
      }
      case TestSource::kRegexLazy: {
        Value* regexes = table(ptr_, a.tables, offsetof(NativeTables, regexes));
        Value* dfa = b_.CreateInBoundsGEP(i8_, regexes,
                                          b_.CreateMul(word(0), b_.getInt64(sizeof(NativeDfa))));
        Value* s = b_.CreateCall(dfa_run_, {dfa, a.view}, "state");
        Value* accepting = table(ptr_, dfa, offsetof(NativeDfa, accepting));
        return b_.CreateICmpNE(element(i8_, accepting, s), b_.getInt8(0));
      }
      case TestSource::kDirect:
        break;
    }
    switch (n.kind) {
      case TestKind::kTrue:
        return b_.getInt1(true);
      case TestKind::kFalse:
        return b_.getInt1(false);
      case TestKind::kLabelCount:
        return compare(n.compare, view_u64(a, offsetof(QueryView, label_count), i8_), word(0));
      case TestKind::kNameLength: {
        // The text form's length: "." for the root, else the wire length - 1.
        Value* len = view_u64(a, offsetof(QueryView, qname_length), i8_);
        Value* text = b_.CreateSelect(b_.CreateICmpULE(len, b_.getInt64(1)), b_.getInt64(1),
                                      b_.CreateSub(len, b_.getInt64(1)));
        return compare(n.compare, text, word(0));
      }
      case TestKind::kQclass:
        return b_.CreateICmpEQ(view_u64(a, offsetof(QueryView, qclass), i16_), word(0));
      case TestKind::kOpcode:
        return b_.CreateICmpEQ(view_u64(a, offsetof(QueryView, opcode), i8_), word(0));
      case TestKind::kHeaderBit:
        return b_.CreateICmpNE(b_.CreateAnd(view_u64(a, offsetof(QueryView, flags), i16_), word(0)),
                               b_.getInt64(0));
      case TestKind::kEdns:
        return b_.CreateICmpNE(load(i8_, a.view, offsetof(QueryView, edns_present)), b_.getInt8(0));
      case TestKind::kEdnsDo:
        return b_.CreateICmpNE(load(i8_, a.view, offsetof(QueryView, edns_do)), b_.getInt8(0));
      case TestKind::kEdnsVersion:
        return compare(n.compare, view_u64(a, offsetof(QueryView, edns_version), i8_), word(0));
      case TestKind::kEdnsPayload:
        return compare(n.compare, view_u64(a, offsetof(QueryView, edns_payload), i16_), word(0));
      case TestKind::kEdnsOption:
        return b_.CreateCall(edns_option_, {a.view, word(0)});
      case TestKind::kTransport:
        return b_.CreateICmpEQ(view_u64(a, offsetof(QueryView, transport), i8_), word(0));
      case TestKind::kSize:
        return compare(n.compare, view_u64(a, offsetof(QueryView, size), i16_), word(0));
      case TestKind::kQps: {
        // dnspc_rate_over(state, spec, limiter, per_source, &view->source) != 0
        Value* w = word(0);
        Value* spec = b_.CreateIntToPtr(word(1), ptr_, "spec");
        Value* over = b_.CreateCall(rate_over_, {a.state, spec, b_.CreateTrunc(w, i32_),
                                                 b_.CreateTrunc(b_.CreateLShr(w, 32), i32_),
                                                 byte_gep(a.view, offsetof(QueryView, source))});
        return b_.CreateICmpNE(over, b_.getInt32(0));
      }
      case TestKind::kLua: {
        // dnspc_lua_predicate(state, function, view) != 0
        Value* called = b_.CreateCall(lua_predicate_, {a.state, b_.CreateTrunc(word(0), i32_), a.view});
        return b_.CreateICmpNE(called, b_.getInt32(0));
      }
      case TestKind::kProbability: {
        // next_random(state->random) (xorshift64), then r < value, or always at UINT64_MAX.
        Value* at = byte_gep(a.state, offsetof(DecisionState, random));
        Value* s = b_.CreateLoad(i64_, at, "random");
        s = b_.CreateXor(s, b_.CreateShl(s, 13));
        s = b_.CreateXor(s, b_.CreateLShr(s, 7));
        s = b_.CreateXor(s, b_.CreateShl(s, 17));
        b_.CreateStore(s, at);
        Value* value = word(0);
        return b_.CreateOr(b_.CreateICmpEQ(value, b_.getInt64(UINT64_MAX)),
                           b_.CreateICmpULT(s, value));
      }
      case TestKind::kTagged: {
        Value* tags = load(i64_, a.state, offsetof(DecisionState, tags), "tags");
        Value* bit = word(0);
        Value* in_range = b_.CreateICmpULT(bit, b_.getInt64(64));
        Value* set = b_.CreateTrunc(b_.CreateLShr(tags, b_.CreateAnd(bit, b_.getInt64(63))), i1_);
        return b_.CreateAnd(in_range, set);
      }
      // Response facts (DecisionState::response), unsigned compares as above.
      case TestKind::kResponseRcode:
        return compare(n.compare, state_u64(a, offsetof(ResponseFacts, rcode), i16_), word(0));
      case TestKind::kAnswerCount:
        return compare(n.compare, state_u64(a, offsetof(ResponseFacts, answers), i16_), word(0));
      case TestKind::kLatency: {
        // Whole milliseconds, as the interpreter: latency_us / 1000.
        Value* us = state_u64(a, offsetof(ResponseFacts, latency_us), i64_);
        return compare(n.compare, b_.CreateUDiv(us, b_.getInt64(1000)), word(0));
      }
      case TestKind::kResponseSize:
        return compare(n.compare, state_u64(a, offsetof(ResponseFacts, size), i32_), word(0));
      case TestKind::kFromRule: {
        // DecisionState::first_rule, not a response fact: query rules are
        // resumed past a Lua action that fell back, too.
        Value* first = load(i32_, a.state, offsetof(DecisionState, first_rule), "first_rule");
        return b_.CreateICmpULE(b_.CreateZExt(first, i64_), word(0));
      }
      // Not reached: answered by the lookups above.
      case TestKind::kName:
      case TestKind::kRegex:
      case TestKind::kQtype:
      case TestKind::kSource:
      case TestKind::kDestination:
        break;
    }
    return b_.getInt1(false);
  }

  // ------------------------------------------------------------ decide

  void emit_decide() {
    Function* f = Function::Create(llvm::FunctionType::get(i64_, {ptr_, ptr_, ptr_}, false),
                                   llvm::GlobalValue::ExternalLinkage, kEntryName, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    f->addParamAttr(0, llvm::Attribute::NoAlias);
    f->addParamAttr(0, llvm::Attribute::ReadOnly);
    f->addParamAttr(2, llvm::Attribute::ReadOnly);
    Value* view = f->getArg(0);
    Value* state = f->getArg(1);
    Value* tables = f->getArg(2);
    view->setName("view");
    state->setName("state");
    tables->setName("tables");
    BasicBlock* entry = BasicBlock::Create(ctx_, "entry", f);
    b_.SetInsertPoint(entry);
    Value* facts = b_.CreateAlloca(facts_ty_, nullptr, "facts");
    Value* live = b_.CreateAlloca(i32_, nullptr, "live");
    Value* qcount = b_.CreateAlloca(i32_, nullptr, "qtype_count");
    Value* least = b_.CreateAlloca(i32_, nullptr, "least");
    Value* cursor = b_.CreateAlloca(i32_, nullptr, "cursor");
    Value* scratch = load(ptr_, state, offsetof(DecisionState, scratch), "scratch");
    auto tab32 = [&](uint64_t off, const char* name) { return table(i32_, tables, off, name); };
    auto tabptr = [&](uint64_t off, const char* name) { return table(ptr_, tables, off, name); };
    auto set_fact = [&](FactField field, Value* v) {
      b_.CreateStore(v, b_.CreateStructGEP(facts_ty_, facts, field));
    };
    auto scratch_at = [&](Value* words) {
      return b_.CreateInBoundsGEP(i32_, scratch, b_.CreateZExt(words, i64_));
    };

    // 1. Probes into scratch. Each writes at most its cap, a bound on what it
    // can report (PolicyData::build); the count is clamped to it as well. A
    // negative filter (`pass`, emitted before the call) skips the call when
    // the probe can only report nothing.
    auto probe = [&](uint64_t index_off, uint64_t cap_off, Value* out, Function* fn, Value* arg,
                     const std::function<Value*()>& pass, FactField list, FactField count,
                     const char* name) {
      Value* index = tabptr(index_off, name);
      Value* cap = tab32(cap_off, "cap");
      BasicBlock* pre = b_.GetInsertBlock();
      BasicBlock* filter_bb = block("filter");
      BasicBlock* call_bb = block("probe");
      BasicBlock* join = block("probed");
      b_.CreateCondBr(b_.CreateIsNotNull(index), filter_bb, join);
      b_.SetInsertPoint(filter_bb);
      Value* passes = pass();
      BasicBlock* filtered = b_.GetInsertBlock();
      b_.CreateCondBr(passes, call_bb, join);
      b_.SetInsertPoint(call_bb);
      Value* n = umin(b_.CreateCall(fn, {index, arg, out, cap}), cap);
      BasicBlock* called = b_.GetInsertBlock();
      b_.CreateBr(join);
      b_.SetInsertPoint(join);
      llvm::PHINode* got = b_.CreatePHI(i32_, 3, "count");
      got->addIncoming(b_.getInt32(0), pre);
      got->addIncoming(b_.getInt32(0), filtered);
      got->addIncoming(n, called);
      set_fact(list, out);
      set_fact(count, got);
      return got;
    };
    auto bit_set = [&](Value* bits, Value* index) {  // index: i64
      Value* word = element(i64_, bits, b_.CreateTrunc(b_.CreateLShr(index, 6), i32_));
      return b_.CreateTrunc(b_.CreateLShr(word, b_.CreateAnd(index, b_.getInt64(63))), i1_);
    };
    // Name filter: the bit of the two bytes before the name's root byte.
    auto name_pass = [&]() -> Value* {
      Value* bits = tabptr(offsetof(NativeTables, name_filter), "name_filter");
      Value* length = b_.CreateZExt(load(i8_, view, offsetof(QueryView, qname_length)), i64_);
      BasicBlock* pre = b_.GetInsertBlock();
      BasicBlock* test = block("name_filter");
      BasicBlock* done = block("name_filtered");
      // No filter: probe. The root name: no key can match (with a filter, the
      // root is no key).
      Value* no_filter = b_.CreateIsNull(bits);
      b_.CreateCondBr(b_.CreateOr(no_filter, b_.CreateICmpULT(length, b_.getInt64(3))), done, test);
      b_.SetInsertPoint(test);
      Value* name = byte_gep(view, offsetof(QueryView, qname_lower));
      Value* end = b_.CreateInBoundsGEP(i8_, name, length);
      Value* b3 = b_.CreateZExt(b_.CreateLoad(i8_, b_.CreateConstGEP1_64(i8_, end, -3)), i64_);
      Value* b2 = b_.CreateZExt(b_.CreateLoad(i8_, b_.CreateConstGEP1_64(i8_, end, -2)), i64_);
      Value* hit = bit_set(bits, b_.CreateOr(b_.CreateShl(b3, 8), b2));
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
      llvm::PHINode* pass = b_.CreatePHI(i1_, 2, "name_pass");
      pass->addIncoming(no_filter, pre);
      pass->addIncoming(hit, test);
      return pass;
    };
    // Address filter: the bit of hash(top bits & mask) for the family.
    auto address_pass = [&](uint64_t filter_off, uint64_t address_off) {
      return [&, filter_off, address_off]() -> Value* {
        Value* address = byte_gep(view, address_off);
        Value* family = load(i8_, address, offsetof(NetAddress, family), "family");
        Value* v6 = b_.CreateICmpEQ(family, b_.getInt8(static_cast<uint8_t>(AddressFamily::kIPv6)));
        Value* v4 = b_.CreateICmpEQ(family, b_.getInt8(static_cast<uint8_t>(AddressFamily::kIPv4)));
        Value* bytes = byte_gep(address, offsetof(NetAddress, bytes));
        Value* top4 = b_.CreateZExt(
            b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, b_.CreateLoad(i32_, bytes)), i64_);
        Value* top6 = b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, b_.CreateLoad(i64_, bytes));
        Value* top = b_.CreateSelect(v6, top6, top4);
        const uint64_t bits_off = filter_off + offsetof(NativeAddressFilter, bits);
        const uint64_t mask_off = filter_off + offsetof(NativeAddressFilter, mask);
        Value* bits = b_.CreateSelect(v6, table(ptr_, tables, bits_off + sizeof(void*)),
                                      table(ptr_, tables, bits_off));
        Value* mask =
            b_.CreateSelect(v6, table(i64_, tables, mask_off + 8), table(i64_, tables, mask_off));
        BasicBlock* pre = b_.GetInsertBlock();
        BasicBlock* test = block("address_filter");
        BasicBlock* done = block("address_filtered");
        // Neither family: in no prefix. No filter for the family: probe.
        Value* known = b_.CreateOr(v4, v6);
        Value* no_filter = b_.CreateIsNull(bits);
        Value* pass_unfiltered = b_.CreateAnd(known, no_filter);
        b_.CreateCondBr(b_.CreateAnd(known, b_.CreateNot(no_filter)), test, done);
        b_.SetInsertPoint(test);
        Value* index = b_.CreateLShr(
            b_.CreateMul(b_.CreateAnd(top, mask), b_.getInt64(kFilterMultiplier)), kFilterShift);
        Value* hit = bit_set(bits, index);
        b_.CreateBr(done);
        b_.SetInsertPoint(done);
        llvm::PHINode* pass = b_.CreatePHI(i1_, 2, "address_pass");
        pass->addIncoming(pass_unfiltered, pre);
        pass->addIncoming(hit, test);
        return pass;
      };
    };
    Value* names = scratch;
    Value* name_count =
        probe(offsetof(NativeTables, names), offsetof(NativeTables, name_cap), names, name_probe_,
              view, name_pass, kFactNames, kFactNameCount, "names");
    Value* sources = scratch_at(tab32(offsetof(NativeTables, source_offset), "source_offset"));
    Value* source_count =
        probe(offsetof(NativeTables, sources), offsetof(NativeTables, source_cap), sources,
              prefix_probe_, byte_gep(view, offsetof(QueryView, source)),
              address_pass(offsetof(NativeTables, source_filter), offsetof(QueryView, source)),
              kFactSources, kFactSourceCount, "sources");
    Value* dests =
        scratch_at(tab32(offsetof(NativeTables, destination_offset), "destination_offset"));
    Value* dest_count = probe(
        offsetof(NativeTables, destinations), offsetof(NativeTables, destination_cap), dests,
        prefix_probe_, byte_gep(view, offsetof(QueryView, destination)),
        address_pass(offsetof(NativeTables, destination_filter), offsetof(QueryView, destination)),
        kFactDestinations, kFactDestinationCount, "destinations");

    // Qtype ids: inline below 256 (small_begin), dnspc_qtype_ids above.
    Value* qtype = b_.CreateZExt(load(i16_, view, offsetof(QueryView, qtype), "qtype"), i32_);
    BasicBlock* small_bb = block("qtype.small");
    BasicBlock* large_bb = block("qtype.large");
    BasicBlock* qjoin = block("qtype.done");
    b_.CreateCondBr(b_.CreateICmpULT(qtype, b_.getInt32(256)), small_bb, large_bb);
    b_.SetInsertPoint(small_bb);
    Value* small_begin = tabptr(offsetof(NativeTables, qtype_small_begin), "small_begin");
    Value* qb = element(i32_, small_begin, qtype);
    Value* qe = element(i32_, small_begin, b_.CreateAdd(qtype, b_.getInt32(1)));
    Value* qids_small = b_.CreateInBoundsGEP(
        i32_, tabptr(offsetof(NativeTables, qtype_ids), "qtype_ids"), b_.CreateZExt(qb, i64_));
    Value* qn_small = b_.CreateSub(qe, qb);
    b_.CreateBr(qjoin);
    b_.SetInsertPoint(large_bb);
    Value* qids_large = b_.CreateCall(qtype_ids_, {tabptr(offsetof(NativeTables, qtypes), "qtypes"),
                                                   b_.CreateTrunc(qtype, i16_), qcount});
    Value* qn_large = b_.CreateLoad(i32_, qcount);
    b_.CreateBr(qjoin);
    b_.SetInsertPoint(qjoin);
    llvm::PHINode* qids = b_.CreatePHI(ptr_, 2, "qtype_facts");
    qids->addIncoming(qids_small, small_bb);
    qids->addIncoming(qids_large, large_bb);
    llvm::PHINode* qn = b_.CreatePHI(i32_, 2, "qtype_fact_count");
    qn->addIncoming(qn_small, small_bb);
    qn->addIncoming(qn_large, large_bb);
    set_fact(kFactQtypes, qids);
    set_fact(kFactQtypeCount, qn);

    // Regex unions: each DFA once over the text form; final states to scratch.
    Value* union_count = tab32(offsetof(NativeTables, union_count), "union_count");
    Value* unions = tabptr(offsetof(NativeTables, unions), "unions");
    Value* union_states =
        scratch_at(tab32(offsetof(NativeTables, union_state_offset), "union_state_offset"));
    set_fact(kFactUnionStates, union_states);
    auto union_dfa = [&](Value* u) {
      return b_.CreateInBoundsGEP(
          i8_, unions, b_.CreateMul(b_.CreateZExt(u, i64_), b_.getInt64(sizeof(NativeDfa))));
    };
    for_range(b_.getInt32(0), union_count, [&](Value* u) {
      Value* s = b_.CreateCall(dfa_run_, {union_dfa(u), view}, "union_state");
      b_.CreateStore(s, b_.CreateInBoundsGEP(i32_, union_states, b_.CreateZExt(u, i64_)));
    });

    // 2. Candidate lists: (begin, end) pairs into `candidates`, in scratch.
    Value* lists = scratch_at(tab32(offsetof(NativeTables, list_offset), "list_offset"));
    Value* anchor_begin = tabptr(offsetof(NativeTables, anchor_begin), "anchor_begin");
    b_.CreateStore(b_.getInt32(0), live);
    auto add_list = [&](Value* begin, Value* end) {
      if_then(b_.CreateICmpNE(begin, end), [&] {
        Value* l = b_.CreateLoad(i32_, live);
        Value* at = b_.CreateShl(l, 1);
        b_.CreateStore(begin, b_.CreateInBoundsGEP(i32_, lists, b_.CreateZExt(at, i64_)));
        b_.CreateStore(end,
                       b_.CreateInBoundsGEP(i32_, lists,
                                            b_.CreateZExt(b_.CreateAdd(at, b_.getInt32(1)), i64_)));
        b_.CreateStore(b_.CreateAdd(l, b_.getInt32(1)), live);
      });
    };
    auto add_anchored = [&](Value* test) {
      add_list(element(i32_, anchor_begin, test),
               element(i32_, anchor_begin, b_.CreateAdd(test, b_.getInt32(1))));
    };
    add_list(tab32(offsetof(NativeTables, always_begin), "always_begin"),
             tab32(offsetof(NativeTables, always_end), "always_end"));
    // Suffix prefilters of regexes read wire labels: with a '.' inside a
    // label they may miss, so every rule filed under a lazy regex is tried.
    if_then(b_.CreateICmpNE(load(i8_, view, offsetof(QueryView, dot_in_label)), b_.getInt8(0)),
            [&] {
              add_list(tab32(offsetof(NativeTables, lazy_begin), "lazy_begin"),
                       tab32(offsetof(NativeTables, lazy_end), "lazy_end"));
            });
    for_range(b_.getInt32(0), name_count, [&](Value* i) {
      // Name-probe ids at or above kRegexHitBase are regex prefilter hits.
      Value* id = b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, names, b_.CreateZExt(i, i64_)));
      Value* hit = b_.CreateICmpUGE(id, b_.getInt32(opt::kRegexHitBase));
      add_anchored(b_.CreateSelect(hit, b_.CreateSub(id, b_.getInt32(opt::kRegexHitBase)), id));
    });
    auto add_facts = [&](Value* ids, Value* n) {
      for_range(b_.getInt32(0), n, [&](Value* i) {
        add_anchored(b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, ids, b_.CreateZExt(i, i64_))));
      });
    };
    add_facts(sources, source_count);
    add_facts(dests, dest_count);
    add_facts(qids, qn);
    Value* accept_begin = tabptr(offsetof(NativeTables, union_accept_begin), "union_accept_begin");
    Value* accept_tests = tabptr(offsetof(NativeTables, union_accept_tests), "union_accept_tests");
    for_range(b_.getInt32(0), union_count, [&](Value* u) {
      Value* s =
          b_.CreateLoad(i32_, b_.CreateInBoundsGEP(i32_, union_states, b_.CreateZExt(u, i64_)));
      Value* index = b_.CreateAdd(table(i32_, union_dfa(u), offsetof(NativeDfa, accept_base)), s);
      Value* begin = element(i32_, accept_begin, index);
      Value* end = element(i32_, accept_begin, b_.CreateAdd(index, b_.getInt32(1)));
      for_range(begin, end, [&](Value* k) { add_anchored(element(i32_, accept_tests, k)); });
    });

    // 3. The merge: the smallest head of the live lists, every head equal to
    // it advanced, exhausted lists swapped out (as CandidateMerge::next).
    Value* candidates = tabptr(offsetof(NativeTables, candidates), "candidates");
    Value* records = tabptr(offsetof(NativeTables, rules), "rules");
    auto list_word = [&](Value* i, unsigned half) {
      return b_.CreateInBoundsGEP(
          i32_, lists, b_.CreateZExt(b_.CreateAdd(b_.CreateShl(i, 1), b_.getInt32(half)), i64_));
    };
    BasicBlock* merge = block("merge");
    BasicBlock* none = block("no_rule");
    BasicBlock* step = block("merge.step");
    b_.CreateBr(merge);
    b_.SetInsertPoint(none);
    b_.CreateRet(table(i64_, tables, offsetof(NativeTables, no_rule), "no_rule"));
    b_.SetInsertPoint(merge);
    b_.CreateCondBr(b_.CreateICmpEQ(b_.CreateLoad(i32_, live), b_.getInt32(0)), none, step);
    b_.SetInsertPoint(step);
    b_.CreateStore(b_.getInt32(UINT32_MAX), least);
    for_range(b_.getInt32(0), b_.CreateLoad(i32_, live), [&](Value* i) {
      Value* head = element(i32_, candidates, b_.CreateLoad(i32_, list_word(i, 0)));
      b_.CreateStore(umin(head, b_.CreateLoad(i32_, least)), least);
    });
    Value* rule =
        b_.CreateLoad(i32_, least, "record");  // its record's offset: ascending in rule order
    // for (i = 0; i < live;) { advance list i past `rule`; drop it when empty }
    b_.CreateStore(b_.getInt32(0), cursor);
    BasicBlock* adv = block("advance");
    BasicBlock* adv_body = block("advance.body");
    BasicBlock* skip = block("advance.skip");
    BasicBlock* skip_body = block("advance.skip.body");
    BasicBlock* skipped = block("advance.skipped");
    BasicBlock* drop = block("advance.drop");
    BasicBlock* keep = block("advance.keep");
    BasicBlock* advanced = block("advanced");
    b_.CreateBr(adv);
    b_.SetInsertPoint(adv);
    Value* i = b_.CreateLoad(i32_, cursor, "cursor");
    b_.CreateCondBr(b_.CreateICmpULT(i, b_.CreateLoad(i32_, live)), adv_body, advanced);
    b_.SetInsertPoint(adv_body);
    Value* h0 = b_.CreateLoad(i32_, list_word(i, 0), "head");
    Value* e = b_.CreateLoad(i32_, list_word(i, 1), "end");
    b_.CreateBr(skip);
    b_.SetInsertPoint(skip);
    llvm::PHINode* h = b_.CreatePHI(i32_, 2, "h");
    h->addIncoming(h0, adv_body);
    BasicBlock* skip_test = block("advance.skip.test");
    b_.CreateCondBr(b_.CreateICmpNE(h, e), skip_test, skipped);
    b_.SetInsertPoint(skip_test);
    b_.CreateCondBr(b_.CreateICmpEQ(element(i32_, candidates, h), rule), skip_body, skipped);
    b_.SetInsertPoint(skip_body);
    h->addIncoming(b_.CreateAdd(h, b_.getInt32(1)), skip_body);
    b_.CreateBr(skip);
    b_.SetInsertPoint(skipped);
    b_.CreateCondBr(b_.CreateICmpEQ(h, e), drop, keep);
    b_.SetInsertPoint(drop);
    Value* last = b_.CreateSub(b_.CreateLoad(i32_, live), b_.getInt32(1));
    b_.CreateStore(last, live);
    b_.CreateStore(b_.CreateLoad(i32_, list_word(last, 0)), list_word(i, 0));
    b_.CreateStore(b_.CreateLoad(i32_, list_word(last, 1)), list_word(i, 1));
    b_.CreateBr(adv);
    b_.SetInsertPoint(keep);
    b_.CreateStore(h, list_word(i, 0));
    b_.CreateStore(b_.CreateAdd(i, b_.getInt32(1)), cursor);
    b_.CreateBr(adv);

    // 4. The candidate's shape code, given the rule's row.
    b_.SetInsertPoint(advanced);
    Value* record = b_.CreateInBoundsGEP(i64_, records, b_.CreateZExt(rule, i64_), "record");
    Value* shape = load_const(i32_, record, "shape");
    Value* verdict = load_const(i64_, b_.CreateConstInBoundsGEP1_64(i64_, record, 1), "verdict");
    Value* row = b_.CreateConstInBoundsGEP1_64(i64_, record, kRecordHeaderWords, "row");
    BasicBlock* found = block("found");
    BasicBlock* bad_shape = block("bad_shape");
    llvm::SwitchInst* sw =
        b_.CreateSwitch(shape, bad_shape, static_cast<unsigned>(shape_fns_.size()));
    for (uint32_t s = 0; s < shape_fns_.size(); ++s) {
      BasicBlock* c = block("shape");
      sw->addCase(b_.getInt32(s), c);
      b_.SetInsertPoint(c);
      Value* holds = b_.CreateCall(shape_fns_[s], {view, state, tables, facts, row});
      b_.CreateCondBr(holds, found, merge);
    }
    b_.SetInsertPoint(bad_shape);
    b_.CreateUnreachable();
    b_.SetInsertPoint(found);
    b_.CreateRet(verdict);
  }

  llvm::LLVMContext& ctx_;
  llvm::Module& m_;
  const PolicyData& data_;
  llvm::IRBuilder<> b_;
  llvm::Type *i1_, *i8_, *i16_, *i32_, *i64_;
  llvm::PointerType* ptr_;
  llvm::MDNode* invariant_;
  llvm::StructType* facts_ty_;
  Function *name_probe_ = nullptr, *prefix_probe_ = nullptr, *qtype_ids_ = nullptr,
           *rate_over_ = nullptr, *lua_predicate_ = nullptr;
  Function *contains_ = nullptr, *dfa_run_ = nullptr, *edns_option_ = nullptr;
  std::vector<Function*> shape_fns_;
};

}  // namespace

std::unique_ptr<llvm::Module> build_module(llvm::LLVMContext& context, const PolicyData& data,
                                           std::string_view name, llvm::TargetMachine* target) {
  auto m = std::make_unique<llvm::Module>(llvm::StringRef(name.data(), name.size()), context);
  if (target) {
    m->setDataLayout(target->createDataLayout());
    m->setTargetTriple(target->getTargetTriple().str());
  }
  Emitter(context, *m, data).emit();
  return m;
}

void optimize_module(llvm::Module& module, llvm::TargetMachine* target) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // O2, without the loop vectorizer and unroller: the loops here (the
  // merge's lists, the probes' results) run a handful of times per query,
  // where vector gathers, run-time checks and unrolled copies cost more than
  // they save, and only grow the code.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = false;
  tuning.LoopUnrolling = false;
  // The instrumentation is what makes passes skip `optnone` functions
  // (emit_shape's oversized conditions); without it they run on them.
  llvm::PassInstrumentationCallbacks callbacks;
  llvm::StandardInstrumentations instrumentations(module.getContext(), /*DebugLogging=*/false);
  instrumentations.registerCallbacks(callbacks, &mam);
  llvm::PassBuilder pb(target, tuning, std::nullopt, &callbacks);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  mpm.run(module, mam);
}

size_t instruction_count(const llvm::Module& module) {
  size_t n = 0;
  for (const llvm::Function& f : module) n += f.getInstructionCount();
  return n;
}

}  // namespace dnspc::codegen
