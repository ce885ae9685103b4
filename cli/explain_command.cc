// `dnspc explain POLICY [QUERY]`: the decision structure, or why a query
// gets its verdict (a trace of the reference interpreter).
// `dnspc explain --emit-llvm[=raw] POLICY`: the native code's LLVM IR.
#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "command.h"
#include "dnspc/cases/case_file.h"
#include "dnspc/cases/runner.h"
#include "dnspc/dfa_table.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/describe.h"
#include "dnspc/ir/state.h"
#include "dnspc/jit/native.h"
#include "dnspc/opt/index.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"
#include "exit_codes.h"
#include "kernel_report.h"
#include "offline_lua.h"

namespace dnspc::cli {

namespace {

void print_structure(const pipeline::CompiledPolicy& pol, const std::string& path, bool all_rules,
                     const diag::SourceManager& sources) {
  const ir::Program& ref = pol.reference;
  const ir::Program& p = pol.optimized.program;
  const opt::DecisionIndex& ix = pol.optimized.index;
  const opt::IndexStats& s = ix.stats;
  fmt::print("policy {}: {} rules, {} pools\n", path, p.rules.size(), p.pools.size());
  fmt::print("tests: {} ({} before merging identical ones); tables: {} name sets, {} prefix sets, {} qtype sets, {} regexes\n",
             p.tests.size(), ref.tests.size(), p.name_sets.size(), p.prefix_sets.size(), p.qtype_sets.size(),
             p.regexes.size());
  fmt::print("\nmerged lookups (each runs once per query):\n");
  fmt::print("  name index: {} names (exact names, suffixes and regex suffixes), probed over the qname's label suffixes\n",
             s.name_keys);
  auto lengths = [](const PrefixIndex& x) {
    std::string v4, v6;
    for (const auto& t : x.v4_tables) v4 += fmt::format(" /{}", t.prefix_len);
    for (const auto& t : x.v6_tables) v6 += fmt::format(" /{}", t.prefix_len);
    return fmt::format("IPv4 lengths{}; IPv6 lengths{}", v4.empty() ? " none" : v4, v6.empty() ? " none" : v6);
  };
  fmt::print("  prefix tables: {} prefixes; source {}; destination {}\n", s.prefixes, lengths(ix.sources),
             lengths(ix.destinations));
  fmt::print("  qtype lookup: {} tests\n", s.qtype_tests);
  fmt::print("  regexes: {} ({} prefiltered by a DNS suffix in the name index, {} in {} union DFA(s) of {} states)\n",
             s.regexes, s.regexes_prefiltered, s.regexes - s.regexes_prefiltered, s.regex_unions,
             s.regex_union_states);
  for (size_t i = 0; i < p.regexes.size() && (all_rules || i < 20); ++i) {
    const ir::Regex& r = p.regexes[i];
    fmt::print("    /{}/: {} DFA states (minimal), {} byte classes{}{}\n", r.pattern, r.dfa.state_count,
               r.dfa.class_count, r.dns_suffix.empty() ? "" : ", prefilter suffix " + r.dns_suffix,
               r.required.empty() ? "" : ", required literal \"" + r.required + "\"");
  }
  fmt::print("\nrules: {} filed under a lookup (evaluated only when it reports their anchor), {} always evaluated\n",
             s.anchored_rules, s.always_rules);
  std::vector<std::vector<uint32_t>> anchors(p.rules.size());
  for (uint32_t t = 0; t + 1 < ix.anchor_begin.size(); ++t) {
    for (uint32_t k = ix.anchor_begin[t]; k < ix.anchor_begin[t + 1]; ++k) anchors[ix.anchor_rules[k]].push_back(t);
  }
  for (uint32_t r = 0; r < p.rules.size(); ++r) {
    if (!all_rules && r >= 50 && r + 1 < p.rules.size()) {
      if (r == 50) fmt::print("  ... {} more (--all shows every rule)\n", p.rules.size() - 51);
      continue;
    }
    std::string anchor = anchors[r].empty() ? "always" : "";
    for (uint32_t t : anchors[r]) anchor += (anchor.empty() ? "on " : "; ") + ir::describe_test(p, t);
    fmt::print("  {:>4} {}: {} => {}\n         [{}]\n", r, p.rules[r].name, ir::describe_condition(p, p.rules[r].root),
               ir::describe_action(p, r), anchor);
  }
  fmt::print("{}", kernel_section(pol, sources));
}

int explain_query(const pipeline::CompiledPolicy& pol, const std::string& query_text, const diag::SourceManager& sources) {
  auto parsed = cases::parse_cases("<query>", query_text + " => _");
  if (!parsed.ok() || parsed.file.cases.empty()) {
    for (const auto& e : parsed.errors) fmt::print(stderr, "dnspc explain: {}\n", e.message);
    fmt::print(stderr, "dnspc explain: a query is written as in case files: NAME [TYPE] [from ADDR] [tcp] [do] ...\n");
    return kExitUsage;
  }
  cases::QuerySpec spec = parsed.file.cases[0].query;
  std::string error;
  std::vector<uint8_t> packet = cases::encode_query(spec, 1, error);
  if (packet.empty()) {
    fmt::print(stderr, "dnspc explain: {}\n", error);
    return kExitBadInput;
  }
  QueryView view;
  view.source = spec.source;
  view.destination = spec.destination.value_or(pol.model.listens.empty() ? NetAddress{} : pol.model.listens[0].address);
  if (ParseError e = parse_query(packet.data(), packet.size(), spec.transport, view); e != ParseError::kOk) {
    fmt::print(stderr, "dnspc explain: the query does not parse: {}\n", parse_error_name(e));
    return kExitBadInput;
  }
  const ir::Program& p = pol.reference;
  OfflineLua lua;
  if (!load_lua(pol, "dnspc explain", lua, error)) {
    fmt::print(stderr, "dnspc explain: {}\n", error);
    return kExitBadInput;
  }
  char text[256];
  size_t len = qname_text(view, text, sizeof text);
  fmt::print("query: {} type {} from {} {}{}{}\n", std::string(text, len), view.qtype, view.source.to_string(),
             view.transport == Transport::kTcp ? "tcp" : "udp", view.edns_present ? " edns" : "",
             view.edns_do ? " do" : "");
  ir::ProgramState state(p);
  DecisionState& st = state.for_query(0);
  bind_predicates(lua, st);
  // The rules' verdict; a Lua action decides in its rule's place, or gives
  // no verdict and the following rules decide (as in `dnspc run`).
  Verdict v;
  uint32_t current = UINT32_MAX;
  for (;;) {
    interp::Trace trace;
    v = interp::interpret(p, view, st, &trace);
    for (const interp::TraceStep& step : trace.steps) {
      if (step.rule != current) {
        current = step.rule;
        auto lc = sources.position(p.rules[current].range.file, p.rules[current].range.begin);
        fmt::print("  rule {} ({}:{}:{}):\n", p.rules[current].name, sources.path(p.rules[current].range.file),
                   lc.line, lc.column);
      }
      fmt::print("    {:<60} -> {}\n", ir::describe_test(p, step.test), step.value ? "true" : "false");
    }
    if (v.action != ActionKind::kLua || !lua.hooks || v.rule >= p.rules.size()) break;
    if (std::optional<Verdict> decided = run_lua_action(lua, p, v, view, st)) {
      fmt::print("verdict: rule '{}' decides: {}\n", p.rules[v.rule].name,
                 cases::verdict_action_text(p, *decided));
      break;
    }
    fmt::print("    {:<60} -> no verdict: the rule counts as not matched\n", ir::describe_action(p, v.rule));
    st.first_rule = v.rule + 1;
  }
  if (v.action != ActionKind::kLua || !lua.hooks) {
    if (v.rule < p.rules.size()) {
      fmt::print("verdict: rule '{}' decides: {}\n", p.rules[v.rule].name, ir::describe_action(p, v.rule));
    } else {
      fmt::print("verdict: no rule decides: {}\n", action_kind_name(v.action));
    }
  }
  // The other engines give the rules' first verdict, with the same hooks.
  ir::ProgramState first_state(p);
  bind_predicates(lua, first_state.for_query(0));
  v = interp::interpret(p, view, first_state.for_query(0));
  ir::ProgramState opt_state(pol.optimized.program);
  bind_predicates(lua, opt_state.for_query(0));
  Verdict o = opt::evaluate(pol.optimized, view, opt_state.for_query(0));
  fmt::print("optimised structure: {}\n", o == v ? "same verdict" : "DIFFERENT verdict (a bug; please report)");
  // And the native code, when the policy compiles.
  bool native_same = true;
  error.clear();
  if (std::unique_ptr<jit::Engine> engine = jit::Engine::create(error)) {
    std::shared_ptr<const opt::OptimizedPolicy> optimized(
        std::shared_ptr<const opt::OptimizedPolicy>(), &pol.optimized);
    if (auto native = engine->compile(optimized, error)) {
      ir::ProgramState native_state(pol.optimized.program);
      native_state.reserve_scratch(native->scratch_words());
      bind_predicates(lua, native_state.for_query(0));
      native_same = native->decide(view, native_state.for_query(0)) == v;
      fmt::print("native code: {}\n",
                 native_same ? "same verdict" : "DIFFERENT verdict (a bug; please report)");
    } else {
      fmt::print("native code: not compiled ({})\n", error);
    }
  } else {
    fmt::print("native code: no JIT ({})\n", error);
  }
  return o == v && native_same ? kExitOk : kExitInternal;
}

// The native code's LLVM module: after the O2 pipeline (what runs), or as
// emitted (--emit-llvm=raw).
int print_llvm(const opt::OptimizedPolicy& policy, bool optimized) {
  std::string error;
  std::unique_ptr<jit::Engine> engine = jit::Engine::create(error);
  if (!engine) {
    fmt::print(stderr, "dnspc explain: {}\n", error);
    return kExitInternal;
  }
  const std::string ir = engine->emit_llvm(policy, error, optimized);
  if (ir.empty()) {
    fmt::print(stderr, "dnspc explain: {}\n", error);
    return kExitBadInput;
  }
  fmt::print("{}", ir);
  return kExitOk;
}

}  // namespace

int run_explain(std::span<char* const> args) {
  bool all = false;
  bool emit_llvm = false, emit_optimized = true;
  std::string policy;
  std::string query;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--all") {
      all = true;
    } else if (a == "--emit-llvm") {
      emit_llvm = true;
    } else if (a == "--emit-llvm=raw") {
      emit_llvm = true;
      emit_optimized = false;
    } else if (policy.empty()) {
      policy = a;
    } else {
      query += (query.empty() ? "" : " ") + std::string(a);
    }
  }
  if (policy.empty()) {
    fmt::print(stderr,
               "usage: dnspc explain [--all] POLICY [QUERY]\n"
               "       dnspc explain --emit-llvm[=raw] POLICY\n");
    return kExitUsage;
  }
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  auto r = pipeline::compile_file(policy, diags);
  if (r.status == frontend::LoadStatus::kUnreadable) {
    fmt::print(stderr, "dnspc explain: {}\n", r.io_error);
    return kExitInternal;
  }
  diags.sort();
  fmt::print(stderr, "{}", diag::render_text(diags, isatty(STDERR_FILENO) && !std::getenv("NO_COLOR")));
  if (!r.policy) return kExitBadInput;
  if (emit_llvm) {
    if (!query.empty()) {
      fmt::print(stderr,
                 "dnspc explain: --emit-llvm prints the policy's code; it takes no query\n");
      return kExitUsage;
    }
    return print_llvm(r.policy->optimized, emit_optimized);
  }
  if (query.empty()) {
    print_structure(*r.policy, policy, all, sources);
    return kExitOk;
  }
  return explain_query(*r.policy, query, sources);
}

}  // namespace dnspc::cli
