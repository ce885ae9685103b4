#include <fmt/core.h>

#include "transformer.h"

namespace dnspc::parse {

std::unique_ptr<ast::Policy> Transformer::transform(P::PolicyContext* ctx) {
  auto policy = std::make_unique<ast::Policy>();
  policy->file = file_;
  for (auto* s : ctx->statement()) transform_statement(s, *policy);
  return policy;
}

void Transformer::transform_statement(P::StatementContext* ctx, ast::Policy& out) {
  // A statement is exactly one of these (the grammar's alternatives).
  antlr4::tree::ParseTree* stmt = ctx->children.empty() ? nullptr : ctx->children[0];
  if (auto* s = as<P::RuleDeclContext>(stmt)) {
    return out.rules.push_back(transform_rule(s->IDENT(), s->expr(), s->actionList(), s));
  }
  if (auto* s = as<P::ListenStmtContext>(stmt)) return out.listens.push_back(transform_listen(s));
  if (auto* s = as<P::AclStmtContext>(stmt)) return out.acls.push_back(transform_acl(s));
  if (auto* s = as<P::EndpointStmtContext>(stmt)) {
    return out.endpoints.push_back(transform_endpoint_stmt(s));
  }
  if (auto* s = as<P::LuaFileStmtContext>(stmt)) {
    return out.lua_files.push_back({unquote(s->STRING()->getSymbol()), range(s->STRING())});
  }
  if (auto* s = as<P::OptionStmtContext>(stmt)) return out.options.push_back(transform_option(s));
  if (auto* s = as<P::XdpStmtContext>(stmt)) return out.xdps.push_back(transform_xdp(s));
  if (auto* s = as<P::PoolDeclContext>(stmt)) return out.pools.push_back(transform_pool(s));
  if (auto* s = as<P::SetDeclContext>(stmt)) return out.sets.push_back(transform_set(s));
  if (auto* s = as<P::ResponseRuleDeclContext>(stmt)) {
    auto rule = transform_rule(s->IDENT(), s->expr(), s->actionList(), s);
    rule.response = true;
    return out.response_rules.push_back(std::move(rule));
  }
  if (auto* s = as<P::DynblockDeclContext>(stmt)) {
    return out.dynblocks.push_back(transform_dynblock(s));
  }
}

ast::ListenStmt Transformer::transform_listen(P::ListenStmtContext* ctx) {
  ast::ListenStmt out{{}, range(ctx)};
  for (auto* e : ctx->endpoint()) out.endpoints.push_back(transform_endpoint(e));
  return out;
}

ast::AclStmt Transformer::transform_acl(P::AclStmtContext* ctx) {
  ast::AclStmt out{{}, range(ctx)};
  for (auto* n : ctx->netmaskList()->netmask()) out.netmasks.push_back(transform_netmask(n));
  return out;
}

ast::EndpointStmt Transformer::transform_endpoint_stmt(P::EndpointStmtContext* ctx) {
  ast::EndpointStmt out;
  out.range = range(ctx);
  switch (ctx->kind->getType()) {
    case P::CONSOLE: out.kind = ast::EndpointStmt::Kind::kConsole; break;
    case P::WEB: out.kind = ast::EndpointStmt::Kind::kWeb; break;
    default: out.kind = ast::EndpointStmt::Kind::kControl; break;
  }
  if (ctx->endpoint()) out.endpoint = transform_endpoint(ctx->endpoint());
  if (ctx->STRING()) out.path = unquote(ctx->STRING()->getSymbol());
  return out;
}

ast::OptionStmt Transformer::transform_option(P::OptionStmtContext* ctx) {
  return {name(ctx->name), transform_value(ctx->value()), range(ctx)};
}

ast::XdpStmt Transformer::transform_xdp(P::XdpStmtContext* ctx) {
  ast::XdpStmt out;
  out.interface = unquote(ctx->STRING()->getSymbol());
  out.interface_range = range(ctx->STRING());
  out.range = range(ctx);
  for (auto* s : ctx->xdpSetting()) {
    out.settings.push_back({name(s->name), transform_value(s->value()), range(s)});
  }
  return out;
}

ast::PoolDecl Transformer::transform_pool(P::PoolDeclContext* ctx) {
  ast::PoolDecl out;
  out.name = name(ctx->name);
  out.range = range(ctx);
  auto policy_twice = [&](antlr4::ParserRuleContext* second) {
    if (!out.policy) return false;
    auto& d = diags_.error("duplicate-pool-setting", range(second),
                           fmt::format("pool '{}' sets its policy twice", out.name.text));
    d.notes.push_back({out.policy_range, "first set here"});
    return true;
  };
  for (auto* item : ctx->poolItem()) {
    if (auto* p = as<P::PoolPolicyContext>(item)) {
      if (policy_twice(p)) continue;
      out.policy = name(p->name);
      out.policy_is_lua = false;
      out.policy_range = range(p);
    } else if (auto* l = as<P::PoolLuaPolicyContext>(item)) {
      if (policy_twice(l)) continue;
      out.policy = name(l->name);
      out.policy_is_lua = true;
      out.policy_range = range(l);
    } else if (auto* s = as<P::PoolServerContext>(item)) {
      out.servers.push_back(transform_server(s));
    } else if (auto* set = as<P::PoolSettingContext>(item)) {
      ast::PoolSetting setting{name(set->name), std::nullopt, range(set), {}};
      if (set->value()) setting.value = transform_value(set->value());
      for (auto* a : set->serverAttr()) {
        ast::ServerAttr attr;
        attr.name = {text(a->attrName()), range(a->attrName())};
        attr.range = range(a);
        for (auto* v : a->value()) attr.values.push_back(transform_value(v));
        setting.attrs.push_back(std::move(attr));
      }
      out.settings.push_back(std::move(setting));
    }
  }
  return out;
}

ast::ServerDecl Transformer::transform_server(P::PoolServerContext* ctx) {
  ast::ServerDecl out;
  out.endpoint = transform_endpoint(ctx->endpoint());
  out.range = range(ctx);
  for (auto* a : ctx->serverAttr()) {
    ast::ServerAttr attr;
    attr.name = {text(a->attrName()), range(a->attrName())};
    attr.range = range(a);
    for (auto* v : a->value()) attr.values.push_back(transform_value(v));
    out.attrs.push_back(std::move(attr));
  }
  return out;
}

ast::SetDecl Transformer::transform_set(P::SetDeclContext* ctx) {
  ast::SetDecl out;
  switch (ctx->kind->getType()) {
    case P::SUFFIXES: out.kind = ast::SetKind::kSuffixes; break;
    case P::NAMES: out.kind = ast::SetKind::kNames; break;
    case P::NETMASKS: out.kind = ast::SetKind::kNetmasks; break;
    default: out.kind = ast::SetKind::kQtypes; break;
  }
  out.name = name(ctx->name);
  out.range = range(ctx);
  if (auto* inl = as<P::InlineSetContext>(ctx->setBody())) {
    for (auto* v : inl->value()) out.entries.push_back(transform_value(v));
  } else if (auto* file = as<P::FileSetContext>(ctx->setBody())) {
    out.file = unquote(file->STRING()->getSymbol());
    out.file_range = range(file->STRING());
  }
  return out;
}

ast::RuleDecl Transformer::transform_rule(antlr4::tree::TerminalNode* rule_name, P::ExprContext* cond,
                                          P::ActionListContext* actions,
                                          antlr4::ParserRuleContext* whole) {
  ast::RuleDecl out;
  out.name = name(rule_name);
  out.range = range(whole);
  out.condition = transform_expr(cond);
  for (auto* a : actions->action()) out.actions.push_back(transform_action(a));
  return out;
}

ast::DynBlockDecl Transformer::transform_dynblock(P::DynblockDeclContext* ctx) {
  ast::DynBlockDecl out;
  out.name = name(ctx->name);
  out.range = range(ctx);
  auto idents = ctx->measure()->IDENT();
  out.measure = name(idents[0]);
  if (idents.size() > 1) out.measure_arg = name(idents[1]);
  out.bound = transform_number(ctx->number());
  out.per = name(ctx->IDENT(1));  // IDENT(0) is the block's name
  transform_prefix_lengths(ctx->prefixLengths(), out.per_v4, out.per_v6);
  out.per_range = range(ctx->prefixLengths()->getStop() ? ctx->prefixLengths() : nullptr);
  if (!out.per_range.valid()) out.per_range = out.per.range;
  // A malformed duration is reported once; a valid stand-in avoids a second error.
  out.window_ms = duration_ms(ctx->DURATION(0)->getSymbol()).value_or(1000);
  out.window_range = range(ctx->DURATION(0));
  out.action = transform_action(ctx->action());
  out.duration_ms = duration_ms(ctx->DURATION(1)->getSymbol()).value_or(1000);
  out.duration_range = range(ctx->DURATION(1));
  if (ctx->netmaskList()) {
    for (auto* n : ctx->netmaskList()->netmask()) out.except.push_back(transform_netmask(n));
  }
  return out;
}

}  // namespace dnspc::parse
