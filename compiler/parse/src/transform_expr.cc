#include "transformer.h"

namespace dnspc::parse {

using ast::Expr;

// `a or b or c ...` parses left-deep, one tree node per operator: a rule a
// script generated from a list of names has thousands. The left spine is
// walked in a loop into one n-ary node, so recursion follows the nesting
// (bounded, nesting.h) and never the length of a chain.
template <typename Chain>
void Transformer::transform_chain(P::ExprContext* ctx, std::vector<std::unique_ptr<Expr>>& children) {
  std::vector<P::ExprContext*> rights;
  P::ExprContext* left = ctx;
  while (auto* link = as<Chain>(left)) {
    rights.push_back(link->expr(1));
    left = link->expr(0);
  }
  children.reserve(rights.size() + 1);
  children.push_back(transform_expr(left));
  for (auto it = rights.rbegin(); it != rights.rend(); ++it) children.push_back(transform_expr(*it));
}

std::unique_ptr<Expr> Transformer::transform_expr(P::ExprContext* ctx) {
  auto out = std::make_unique<Expr>();
  out->range = range(ctx);
  if (auto* n = as<P::NotExprContext>(ctx)) {
    out->kind = Expr::Kind::kNot;
    out->children.push_back(transform_expr(n->expr()));
  } else if (as<P::AndExprContext>(ctx)) {
    out->kind = Expr::Kind::kAnd;
    transform_chain<P::AndExprContext>(ctx, out->children);
  } else if (as<P::OrExprContext>(ctx)) {
    out->kind = Expr::Kind::kOr;
    transform_chain<P::OrExprContext>(ctx, out->children);
  } else if (auto* p = as<P::ParenExprContext>(ctx)) {
    return transform_expr(p->expr());
  } else if (auto* pred = as<P::PredicateExprContext>(ctx)) {
    return transform_predicate(pred->predicate());
  }
  return out;
}

std::unique_ptr<Expr> Transformer::transform_predicate(P::PredicateContext* ctx) {
  auto out = std::make_unique<Expr>();
  out->range = range(ctx);
  if (as<P::TruePredContext>(ctx)) {
    out->kind = Expr::Kind::kTrue;
  } else if (as<P::FalsePredContext>(ctx)) {
    out->kind = Expr::Kind::kFalse;
  } else if (auto* q = as<P::QpsPredContext>(ctx)) {
    out->kind = Expr::Kind::kQps;
    out->value = transform_number(q->number());
    if (q->BURST()) {
      out->burst = integer(q->INT()->getSymbol());  // nullopt: reported, default kept
      out->burst_range = range(q->INT());
    }
    if (q->PER()) {
      out->per = name(q->IDENT());
      transform_prefix_lengths(q->prefixLengths(), out->per_v4, out->per_v6);
      out->per_range = out->per->range;
      if (auto r = range(q->prefixLengths()); r.valid()) out->per_range.end = r.end;
    }
  } else if (auto* p = as<P::ProbabilityPredContext>(ctx)) {
    out->kind = Expr::Kind::kProbability;
    out->value = transform_number(p->number());
  } else if (auto* t = as<P::TaggedPredContext>(ctx)) {
    out->kind = Expr::Kind::kTagged;
    out->text = unquote(t->STRING()->getSymbol());
    out->text_range = range(t->STRING());
  } else if (auto* l = as<P::LuaPredContext>(ctx)) {
    out->kind = Expr::Kind::kLua;
    out->text = l->name->getText();
    out->text_range = range(l->name);
  } else if (auto* s = as<P::SuffixPredContext>(ctx)) {
    out->kind = Expr::Kind::kSuffix;
    out->field = transform_field(s->field());
    out->text = unquote(s->STRING()->getSymbol());
    out->text_range = range(s->STRING());
  } else if (auto* r = as<P::RegexPredContext>(ctx)) {
    out->kind = Expr::Kind::kRegex;
    out->field = transform_field(r->field());
    antlr4::tree::TerminalNode* re = r->REGEX();
    std::string raw = re->getText();
    out->text = raw.size() >= 2 ? raw.substr(1, raw.size() - 2) : "";
    // The range of the pattern itself, inside the slashes, so regex errors
    // can point at an offset within it.
    diag::SourceRange whole = range(re);
    out->text_range = {whole.file, whole.begin + 1, whole.end - 1};
  } else if (auto* in = as<P::InPredContext>(ctx)) {
    out->kind = Expr::Kind::kIn;
    out->field = transform_field(in->field());
    out->set = transform_set_ref(in->setRef());
  } else if (auto* c = as<P::ComparePredContext>(ctx)) {
    out->kind = Expr::Kind::kCompare;
    out->field = transform_field(c->field());
    switch (c->op->getType()) {
      case P::EQ: out->op = ast::CompareOp::kEq; break;
      case P::NE: out->op = ast::CompareOp::kNe; break;
      case P::LT: out->op = ast::CompareOp::kLt; break;
      case P::LE: out->op = ast::CompareOp::kLe; break;
      case P::GT: out->op = ast::CompareOp::kGt; break;
      default: out->op = ast::CompareOp::kGe; break;
    }
    out->value = transform_value(c->value());
  } else if (auto* f = as<P::FlagPredContext>(ctx)) {
    out->kind = Expr::Kind::kFlag;
    out->field = transform_field(f->field());
  }
  return out;
}

ast::Field Transformer::transform_field(P::FieldContext* ctx) {
  return {text(ctx), range(ctx)};
}

ast::SetRef Transformer::transform_set_ref(P::SetRefContext* ctx) {
  ast::SetRef out;
  out.range = range(ctx);
  if (ctx->name) {
    out.name = name(ctx->name);
  } else if (ctx->netmask()) {
    ast::Value v;
    v.kind = ast::Value::Kind::kNetmask;
    v.netmask = transform_netmask(ctx->netmask());
    v.range = v.netmask.range;
    v.text = text(ctx->netmask());
    out.values.push_back(std::move(v));
  } else {
    for (auto* v : ctx->value()) out.values.push_back(transform_value(v));
  }
  return out;
}

void Transformer::transform_prefix_lengths(P::PrefixLengthsContext* ctx, int& v4, int& v6) {
  if (!ctx) return;
  auto ints = ctx->INT();
  // A malformed length is reported once and leaves the default.
  if (ints.size() > 0) v4 = static_cast<int>(std::min<int64_t>(integer(ints[0]->getSymbol()).value_or(-1), 1000));
  if (ints.size() > 1) v6 = static_cast<int>(std::min<int64_t>(integer(ints[1]->getSymbol()).value_or(-1), 1000));
}

ast::Action Transformer::transform_action(P::ActionContext* ctx) {
  using K = ast::Action::Kind;
  ast::Action out;
  out.range = range(ctx);
  if (auto* p = as<P::PoolActionContext>(ctx)) {
    out.kind = K::kPool;
    out.argument = name(p->name);
  } else if (as<P::DropActionContext>(ctx)) {
    out.kind = K::kDrop;
  } else if (as<P::RefuseActionContext>(ctx)) {
    out.kind = K::kRefuse;
  } else if (auto* r = as<P::RcodeActionContext>(ctx)) {
    out.kind = K::kRcode;
    out.argument = name(r->name);
  } else if (as<P::TruncateActionContext>(ctx)) {
    out.kind = K::kTruncate;
  } else if (auto* s = as<P::SpoofActionContext>(ctx)) {
    out.kind = K::kSpoof;
    for (auto* rec : s->spoofRecord()) {
      out.records.push_back({name(rec->type), transform_value(rec->value()), range(rec)});
    }
    if (s->TTL()) {
      out.ttl = integer(s->INT()->getSymbol());  // nullopt: reported, default kept
      out.ttl_range = range(s->INT());
    }
  } else if (as<P::AllowActionContext>(ctx)) {
    out.kind = K::kAllow;
  } else if (auto* l = as<P::LuaActionContext>(ctx)) {
    out.kind = K::kLua;
    out.argument = name(l->name);
  } else if (auto* t = as<P::TagModifierContext>(ctx)) {
    out.kind = K::kTag;
    out.argument = {unquote(t->STRING()->getSymbol()), range(t->STRING())};
  } else if (as<P::LogModifierContext>(ctx)) {
    out.kind = K::kLog;
  } else if (auto* d = as<P::DelayModifierContext>(ctx)) {
    out.kind = K::kDelay;
    out.delay_ms = duration_ms(d->DURATION()->getSymbol()).value_or(1);  // 1: reported, valid
  } else if (as<P::NoRecurseModifierContext>(ctx)) {
    out.kind = K::kNoRecurse;
  } else if (as<P::SetCdModifierContext>(ctx)) {
    out.kind = K::kSetCd;
  } else if (as<P::NoCacheModifierContext>(ctx)) {
    out.kind = K::kNoCache;
  } else if (auto* u = as<P::UnknownActionContext>(ctx)) {
    out.kind = K::kUnknown;
    out.argument = name(u->IDENT());
  }
  return out;
}

}  // namespace dnspc::parse
