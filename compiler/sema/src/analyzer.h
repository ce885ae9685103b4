// The analyzer's shared state and the per-topic passes it runs (private).
#pragma once

#include <map>
#include <unordered_map>
#include <string>

#include "dnspc/ast/ast.h"
#include "dnspc/diag/diagnostics.h"
#include "dnspc/sema/model.h"
#include "dnspc/sema/sema.h"

namespace dnspc::sema {

class Analyzer {
 public:
  Analyzer(const ast::Policy& policy, diag::Diagnostics& diags, const Config& config)
      : ast_(policy), diags_(diags), config_(config) {}

  Model run();

 private:
  // analyze_globals.cc
  void analyze_options();
  void analyze_endpoints();
  // analyze_xdp.cc
  void analyze_xdp();
  // analyze_sets.cc
  void analyze_sets();
  void load_set_file(const ast::SetDecl& decl, NamedSet& set);
  void add_set_entry(const ast::Value& v, NamedSet& set, std::map<std::string, diag::SourceRange>& seen);
  // analyze_pools.cc
  void analyze_pools();
  Server analyze_server(const ast::ServerDecl& decl);
  // analyze_conditions.cc
  Cond analyze_condition(const ast::Expr& e, bool top_level_conjunct, bool response);
  Cond analyze_field_predicate(const ast::Expr& e);
  Cond analyze_in(const ast::Expr& e, Cond::Kind names_kind);
  // regex_check.cc: a pattern must be regular and fit the DFA budget.
  // Returns the pattern's index in Model::regexes (filled at the end).
  int check_regex(const std::string& pattern, diag::SourceRange range);
  void compile_pending_regexes();
  // analyze_rules.cc
  void analyze_rules();
  Action analyze_actions(const ast::RuleDecl& rule);
  void analyze_response_rules();
  ResponseCond analyze_response_condition(const ast::Expr& e);
  void analyze_dynblocks();
  void check_catch_all();
  // lua_hooks.cc
  void check_lua_hooks();

 public:
  // Shared helpers (values.cc), used by every topic.
  std::optional<std::string> dns_name(const std::string& text, diag::SourceRange range);
  std::optional<Prefix> prefix(const ast::Netmask& n);
  std::optional<uint16_t> qtype(const std::string& name, diag::SourceRange range);
  std::optional<uint8_t> rcode(const std::string& name, diag::SourceRange range);
  int pool_ref(const ast::Name& name);
  int tag_index(const std::string& tag);
  bool in_range(const ast::Value& v, int64_t lo, int64_t hi, const char* what);
  PoolCache analyze_cache(const ast::PoolSetting& s);
  void unknown(const char* code, const char* what, const ast::Name& name,
               const std::vector<std::string>& candidates);
  std::string resolve_path(const std::string& path) const;
  bool cancelled() const { return config_.cancel && config_.cancel->load(std::memory_order_relaxed); }

  // Lua functions the policy references, with where, for the hook check.
  struct LuaUse {
    std::string function;
    std::string role;  // "predicate", "action", "load-balancing policy"
    diag::SourceRange range;
  };

 private:
  // Errors of this policy only: one Diagnostics may serve several files.
  bool has_errors() const { return diags_.error_count() > errors_before_; }

  const ast::Policy& ast_;
  diag::Diagnostics& diags_;
  size_t errors_before_ = 0;
  const Config& config_;
  Model model_;
  std::vector<LuaUse> lua_uses_;
  struct PendingRegex {
    std::string pattern;
    diag::SourceRange range;
  };
  std::vector<PendingRegex> pending_regexes_;
  std::unordered_map<std::string, int> regex_index_;
  std::map<std::string, const ast::SetDecl*> set_decls_;
  size_t set_file_bytes_ = 0;  // read so far, against kMaxSetFilesTotalBytes
};

}  // namespace dnspc::sema
