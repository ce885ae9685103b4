#include "dnspc/runtime/bridge.h"

#include "dnspc/jit/native.h"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

#include "dnspc/cases/block_specs.h"
#include "dnspc/diag/read_file.h"
#include "dnspc/opt/index.h"
#include "kernel_bridge.h"

namespace dnspc::runtime_bridge {

namespace {


runtime::LbPolicy lb_policy(sema::LbPolicy p) {
  switch (p) {
    case sema::LbPolicy::kRoundRobin: return runtime::LbPolicy::kRoundRobin;
    case sema::LbPolicy::kLeastOutstanding: return runtime::LbPolicy::kLeastOutstanding;
    case sema::LbPolicy::kFirstAvailable: return runtime::LbPolicy::kFirstAvailable;
    case sema::LbPolicy::kWeightedRandom: return runtime::LbPolicy::kWeightedRandom;
    case sema::LbPolicy::kHashed: return runtime::LbPolicy::kHashed;
    case sema::LbPolicy::kConsistentHash: return runtime::LbPolicy::kConsistentHash;
    case sema::LbPolicy::kLua: return runtime::LbPolicy::kLua;
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

bool lua_spec(const pipeline::CompiledPolicy& policy, runtime::LuaSpec& out, std::string& error) {
  const sema::Model& m = policy.model;
  out = runtime::LuaSpec{};
  out.call_instructions = m.options.lua_instructions;
  out.memory_bytes = size_t{m.options.lua_memory_mb} << 20;
  auto hook = [&out](const std::string& name) {
    auto it = std::find(out.hooks.begin(), out.hooks.end(), name);
    if (it != out.hooks.end()) return static_cast<uint32_t>(it - out.hooks.begin());
    out.hooks.push_back(name);
    return static_cast<uint32_t>(out.hooks.size() - 1);
  };
  for (const std::string& f : policy.optimized.program.lua_functions) out.query_uses.push_back(hook(f));
  for (const std::string& f : policy.response_optimized.program.lua_functions) out.response_uses.push_back(hook(f));
  for (const sema::Pool& p : m.pools) {
    if (p.policy == sema::LbPolicy::kLua) hook(p.lua_policy);
  }
  out.default_pool = static_cast<uint16_t>(m.default_pool < 0 ? 0 : m.default_pool);
  if (out.hooks.empty()) return true;
  for (const std::string& path : m.lua_files) {
    std::optional<std::string> text = diag::read_regular_file(path, diag::kMaxLuaFileBytes, error);
    if (!text) {
      error = fmt::format("cannot read Lua file {}: {}", path, error);
      return false;
    }
    out.files.emplace_back(path, std::move(*text));
  }
  return true;
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
  if (m.web) {
    runtime::WebSpec web;
    web.address = m.web->address;
    for (const sema::Prefix& p : m.options.web_acl) web.acl.push_back({p.address, p.length});
    web.writes = m.options.web_writes;
    image->web = std::move(web);
  }
  if (m.console) {
    runtime::ConsoleSpec console;
    console.address = m.console->address;
    for (const sema::Prefix& p : m.options.console_acl) console.acl.push_back({p.address, p.length});
    console.key_file = m.options.console_key_file;
    image->console = std::move(console);
  }

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

  if (!lua_spec(*policy, image->lua, error)) return nullptr;
  for (const sema::Pool& p : m.pools) {
    runtime::PoolSpec pool;
    pool.name = p.name;
    pool.policy = lb_policy(p.policy);
    if (p.policy == sema::LbPolicy::kLua) {
      pool.lua_hook = static_cast<uint32_t>(
          std::find(image->lua.hooks.begin(), image->lua.hooks.end(), p.lua_policy) - image->lua.hooks.begin());
    }
    pool.servfail_on_no_server = p.no_server == sema::FailureAnswer::kServfail;
    if (p.cache) {
      const sema::PoolCache& c = *p.cache;
      pool.cache = {c.entries, c.entry_size, c.min_ttl_s, c.max_ttl_s, c.max_negative_ttl_s, c.servfail_ttl_s, c.stale_s};
      pool.cache_stale_on_timeout = c.stale_on_timeout;
    }
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
  make_kernel_program(*policy, *image);
  return image;
}

}  // namespace dnspc::runtime_bridge
