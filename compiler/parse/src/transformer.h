// Parse tree -> AST, one transform per grammar rule, spread over a few files
// by topic (statements, expressions and actions, values). Value errors (an
// address that is not one, an integer too large) are reported here, since
// only here is the token's text at hand.
#pragma once

#include <memory>
#include <typeinfo>

#include "DnsPolicyParser.h"
#include "dnspc/ast/ast.h"
#include "dnspc/diag/diagnostics.h"
#include "dnspc/parse/parse.h"
#include "offsets.h"

namespace dnspc::parse {

using P = grammar::DnsPolicyParser;

// `ctx` as the labelled alternative T, or null: dynamic_cast's answer for
// these leaf classes, by one type_info comparison instead of a walk up the
// hierarchy (dynamic_cast was a tenth of the transformer's time).
template <typename T, typename Context>
T* as(Context* ctx) {
  return ctx && typeid(*ctx) == typeid(T) ? static_cast<T*>(ctx) : nullptr;
}

class Transformer {
 public:
  Transformer(diag::Diagnostics& diags, diag::FileId file, const OffsetMap& offsets)
      : diags_(diags), file_(file), offsets_(offsets) {}

  std::unique_ptr<ast::Policy> transform(P::PolicyContext* ctx);

 private:
  // Statements (transform_statements.cc).
  void transform_statement(P::StatementContext* ctx, ast::Policy& out);
  ast::ListenStmt transform_listen(P::ListenStmtContext* ctx);
  ast::AclStmt transform_acl(P::AclStmtContext* ctx);
  ast::EndpointStmt transform_endpoint_stmt(P::EndpointStmtContext* ctx);
  ast::OptionStmt transform_option(P::OptionStmtContext* ctx);
  ast::XdpStmt transform_xdp(P::XdpStmtContext* ctx);
  ast::PoolDecl transform_pool(P::PoolDeclContext* ctx);
  ast::ServerDecl transform_server(P::PoolServerContext* ctx);
  ast::SetDecl transform_set(P::SetDeclContext* ctx);
  ast::RuleDecl transform_rule(antlr4::tree::TerminalNode* name, P::ExprContext* cond,
                               P::ActionListContext* actions, antlr4::ParserRuleContext* whole);
  ast::DynBlockDecl transform_dynblock(P::DynblockDeclContext* ctx);

  // Expressions and actions (transform_expr.cc).
  std::unique_ptr<ast::Expr> transform_expr(P::ExprContext* ctx);
  template <typename Chain>
  void transform_chain(P::ExprContext* ctx, std::vector<std::unique_ptr<ast::Expr>>& children);
  std::unique_ptr<ast::Expr> transform_predicate(P::PredicateContext* ctx);
  ast::Field transform_field(P::FieldContext* ctx);
  ast::SetRef transform_set_ref(P::SetRefContext* ctx);
  void transform_prefix_lengths(P::PrefixLengthsContext* ctx, int& v4, int& v6);
  ast::Action transform_action(P::ActionContext* ctx);

  // Values (transform_values.cc).
  ast::Value transform_value(P::ValueContext* ctx);
  ast::Value transform_number(P::NumberContext* ctx);
  ast::Endpoint transform_endpoint(P::EndpointContext* ctx);
  ast::Endpoint transform_endpoint_value(P::EndpointValueContext* ctx);
  ast::Netmask transform_netmask(P::NetmaskContext* ctx);
  ast::Name name(antlr4::Token* t);
  ast::Name name(antlr4::tree::TerminalNode* n) { return name(n->getSymbol()); }
  std::string unquote(antlr4::Token* t);
  // Both report a malformed token and return nullopt.
  std::optional<int64_t> integer(antlr4::Token* t);
  std::optional<uint64_t> duration_ms(antlr4::Token* t);
  NetAddress address(antlr4::Token* t, bool ipv6);
  uint16_t port(antlr4::tree::TerminalNode* n);

  // ParseTree::getText(): the tokens' texts joined without what lies
  // between them, built without its std::stringstream (a locale per call).
  static std::string text(antlr4::tree::ParseTree* tree);
  static void append_text(antlr4::tree::ParseTree* tree, std::string& out);

  diag::SourceRange range(antlr4::ParserRuleContext* ctx) const;
  diag::SourceRange range(const antlr4::Token* t) const;
  diag::SourceRange range(antlr4::tree::TerminalNode* n) const { return range(n->getSymbol()); }

  diag::Diagnostics& diags_;
  diag::FileId file_;
  const OffsetMap& offsets_;
};

}  // namespace dnspc::parse
