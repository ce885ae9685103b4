#include "dnspc/runtime/bridge.h"

#include "dnspc/jit/native.h"

#include <fmt/core.h>

#include <vector>

#include "dnspc/cases/block_specs.h"
#include "dnspc/opt/index.h"

namespace dnspc::runtime_bridge {

namespace {

void cond_lua(const sema::Cond& c, std::vector<std::string>& out) {
  if (c.kind == sema::Cond::Kind::kLua) out.push_back("lua " + c.function);
  for (const sema::Cond& child : c.children) cond_lua(child, out);
}

void response_cond_lua(const sema::ResponseCond& c, std::vector<std::string>& out) {
  if (c.query) cond_lua(*c.query, out);
  for (const sema::ResponseCond& child : c.children) response_cond_lua(child, out);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

runtime::LbPolicy lb_policy(sema::LbPolicy p) {
  switch (p) {
    case sema::LbPolicy::kRoundRobin: return runtime::LbPolicy::kRoundRobin;
    case sema::LbPolicy::kLeastOutstanding: return runtime::LbPolicy::kLeastOutstanding;
    case sema::LbPolicy::kFirstAvailable: return runtime::LbPolicy::kFirstAvailable;
    case sema::LbPolicy::kWeightedRandom: return runtime::LbPolicy::kWeightedRandom;
    case sema::LbPolicy::kHashed: return runtime::LbPolicy::kHashed;
    case sema::LbPolicy::kConsistentHash: return runtime::LbPolicy::kConsistentHash;
    case sema::LbPolicy::kLua: break;  // refused before an image is made
  }
  return runtime::LbPolicy::kRoundRobin;
}

runtime::ServerMode server_mode(sema::ServerState s) {
  switch (s) {
    case sema::ServerState::kAuto: return runtime::ServerMode::kAuto;
    case sema::ServerState::kUp: return runtime::ServerMode::kUp;
    case sema::ServerState::kDown: return runtime::ServerMode::kDown;
  }
  return runtime::ServerMode::kAuto;
}

Verdict decide_optimized(const void* context, const QueryView& q, DecisionState& s) {
  return opt::evaluate(*static_cast<const opt::OptimizedPolicy*>(context), q, s);
}

Verdict decide_native(const void* context, const QueryView& q, DecisionState& s) {
  return static_cast<const jit::NativePolicy*>(context)->decide(q, s);
}

// The decision function of `program` (the query rules or the response rules
// of `policy`): its native code with an engine, else the C++ optimised
// evaluator. False and `error` when native compilation fails.
bool make_decider(const std::shared_ptr<const pipeline::CompiledPolicy>& policy,
                  const opt::OptimizedPolicy& program, jit::Engine* engine, runtime::Decider& out,
                  std::string& error) {
  if (engine) {
    // The native code reads the optimised policy's tables; the aliasing
    // pointer keeps the whole compiled policy alive for as long as it runs.
    std::shared_ptr<const opt::OptimizedPolicy> optimized(policy, &program);
    std::shared_ptr<const jit::NativePolicy> native = engine->compile(optimized, error);
    if (!native) return false;
    out.fn = decide_native;
    out.context = native.get();
    out.owner = native;
    out.scratch_words = native->scratch_words();
    return true;
  }
  out.fn = decide_optimized;
  out.context = &program;
  out.owner = policy;
  return true;
}

}  // namespace

std::string lua_refusal(const sema::Model& model) {
  std::vector<std::string> uses;
  for (const sema::Rule& r : model.rules) {
    std::vector<std::string> calls;
    cond_lua(r.condition, calls);
    if (r.action.terminal == sema::Terminal::kLua) calls.push_back("lua " + r.action.lua_function);
    if (!calls.empty()) uses.push_back(fmt::format("rule '{}' ({})", r.name, join(calls)));
  }
  for (const sema::ResponseRule& r : model.response_rules) {
    std::vector<std::string> calls;
    response_cond_lua(r.condition, calls);
    if (r.terminal == sema::ResponseTerminal::kLua) calls.push_back("lua " + r.lua_function);
    if (!calls.empty()) uses.push_back(fmt::format("response rule '{}' ({})", r.name, join(calls)));
  }
  for (const sema::Pool& p : model.pools) {
    if (p.policy == sema::LbPolicy::kLua) uses.push_back(fmt::format("pool '{}' (policy lua {})", p.name, p.lua_policy));
  }
  if (uses.empty()) return "";
  return fmt::format("{} {} Lua, which dnspc run cannot run yet (Lua hooks come with the Lua runtime); "
                     "the policy was not started",
                     join(uses), uses.size() == 1 ? "uses" : "use");
}

std::shared_ptr<runtime::PolicyImage> make_image(std::shared_ptr<const pipeline::CompiledPolicy> policy,
                                                 const std::string& path, jit::Engine* engine,
                                                 std::string& error) {
  auto image = std::make_shared<runtime::PolicyImage>();
  const sema::Model& m = policy->model;
  const ir::Program& program = policy->optimized.program;
  image->path = path;
  for (const sema::Endpoint& e : m.listens) image->listeners.push_back(e.address);
  for (const sema::Prefix& p : m.acl) image->acl.push_back({p.address, p.length});
  image->control_path = m.control_path;

  runtime::Options& o = image->options;
  o.workers = m.options.workers;
  o.udp_timeout_ms = m.options.udp_timeout_ms;
  o.timeout_servfail = m.options.timeout_answer == sema::FailureAnswer::kServfail;
  o.acl_drop = m.options.acl_action == sema::AclAction::kDrop;
  o.max_outstanding = m.options.max_outstanding;
  o.sockets_per_backend = m.options.sockets_per_backend;
  o.ring_entries = m.options.ring_entries;
  o.max_held_answers = m.options.max_held_answers;
  o.tcp.max_connections = m.options.tcp_max_connections;
  o.tcp.max_connections_per_client = m.options.tcp_max_connections_per_client;
  o.tcp.max_queries_per_connection = m.options.tcp_max_queries_per_connection;
  o.tcp.idle_timeout_ms = m.options.tcp_idle_timeout_ms;
  o.tcp.max_duration_ms = m.options.tcp_max_duration_ms;
  o.tcp.max_buffered_bytes = m.options.tcp_max_buffered_bytes;
  o.tcp.client_max_in_flight = m.options.tcp_client_max_in_flight;
  o.tcp.connect_timeout_ms = m.options.tcp_connect_timeout_ms;
  o.tcp.backend_timeout_ms = m.options.tcp_backend_timeout_ms;
  o.tcp.backend_connections = m.options.tcp_backend_connections;
  o.tcp.backend_max_in_flight = m.options.tcp_backend_max_in_flight;

  for (const sema::Pool& p : m.pools) {
    runtime::PoolSpec pool;
    pool.name = p.name;
    pool.policy = lb_policy(p.policy);
    pool.servfail_on_no_server = p.no_server == sema::FailureAnswer::kServfail;
    for (const sema::Server& s : p.servers) {
      runtime::ServerSpec server;
      server.address = s.address;
      server.weight = s.weight;
      server.qps = s.qps;
      server.order = s.order;
      server.mode = server_mode(s.state);
      server.check.qname = s.check.qname;
      server.check.qtype = s.check.qtype;
      server.check.interval_ms = s.check.interval_ms;
      server.check.timeout_ms = s.check.timeout_ms;
      server.check.down_after = s.check.down_after;
      server.check.up_after = s.check.up_after;
      server.check.healthy_rcodes = s.check.healthy_rcodes;
      pool.servers.push_back(std::move(server));
    }
    image->pools.push_back(std::move(pool));
  }

  for (const ir::Rule& r : program.rules) {
    runtime::RuleSpec rule;
    rule.name = r.name;
    rule.action = r.action.terminal;
    rule.argument = r.action.argument;
    rule.modifiers = r.action.modifiers;
    rule.tag_bits = r.action.tag_bits;
    rule.delay_ms = r.action.delay_ms;
    image->rules.push_back(std::move(rule));
  }
  for (const ir::SpoofSet& set : program.spoof_sets) {
    runtime::SpoofSetSpec out;
    out.ttl = set.ttl;
    for (const ir::SpoofRecord& r : set.records) out.records.push_back({r.type, r.data});
    image->spoof_sets.push_back(std::move(out));
  }
  for (const ir::Limiter& l : program.limiters) {
    runtime::LimiterSpec out;
    out.rule = l.rule;
    out.spec = l.spec;
    out.per_source = l.per_source;
    out.v4_prefix = l.v4_prefix;
    out.v6_prefix = l.v6_prefix;
    out.table_size = l.table_size;
    image->limiters.push_back(out);
  }
  image->tags = program.tags;

  image->dynblocks = cases::block_specs(m);
  if (m.console) image->not_applied.push_back("the console (" + m.console->address.to_string(true) + ")");
  if (m.web) image->not_applied.push_back("the web server (" + m.web->address.to_string(true) + ")");

  for (const ir::Rule& r : policy->response_optimized.program.rules) {
    runtime::ResponseRuleSpec rule;
    rule.name = r.name;
    rule.action = r.action.terminal;
    rule.argument = r.action.argument;
    rule.modifiers = r.action.modifiers;
    rule.tag_bits = r.action.tag_bits;
    image->response_rules.push_back(std::move(rule));
  }

  if (!make_decider(policy, policy->optimized, engine, image->decide, error)) return nullptr;
  if (!image->response_rules.empty() &&
      !make_decider(policy, policy->response_optimized, engine, image->response_decide, error)) {
    return nullptr;
  }
  return image;
}

}  // namespace dnspc::runtime_bridge
