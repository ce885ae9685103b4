#include "analyzer.h"

#include <algorithm>
#include <fmt/core.h>

namespace dnspc::sema {

Model Analyzer::run() {
  errors_before_ = diags_.error_count();
  analyze_options();
  analyze_endpoints();
  analyze_xdp();
  analyze_sets();
  analyze_pools();
  analyze_rules();
  analyze_response_rules();
  analyze_dynblocks();
  compile_pending_regexes();

  // The default pool serves `allow`: the option, else the first pool.
  if (!model_.options.default_pool.empty()) {
    model_.default_pool = model_.find_pool(model_.options.default_pool);
    if (model_.default_pool < 0) {
      for (const ast::OptionStmt& o : ast_.options) {
        if (o.name.text == "default_pool") {
          unknown("unknown-pool", "pool", ast::Name{o.value.text, o.value.range},
                  [&] {
                    std::vector<std::string> names;
                    for (const Pool& p : model_.pools) names.push_back(p.name);
                    return names;
                  }());
        }
      }
    }
  } else if (!model_.pools.empty()) {
    model_.default_pool = 0;
  }
  for (Rule& r : model_.rules) {
    if (r.action.terminal != Terminal::kAllow) continue;
    if (model_.default_pool < 0 && model_.options.default_pool.empty()) {
      diags_.error("no-default-pool", r.action.range,
                   "'allow' forwards to the default pool, but the policy declares no pool");
    }
    r.action.pool = model_.default_pool;
  }
  if (model_.tags.size() > 64) {
    diags_.error("too-many-tags", {}, fmt::format("the policy uses {} tags; at most 64 are allowed",
                                                  model_.tags.size()));
  }
  check_catch_all();
  if (config_.check_lua) check_lua_hooks();
  if (!has_errors()) run_static_checks(model_, diags_);
  return std::move(model_);
}

Model analyze(const ast::Policy& policy, diag::Diagnostics& diags, const Config& config) {
  return Analyzer(policy, diags, config).run();
}

}  // namespace dnspc::sema
