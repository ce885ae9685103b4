#include "dnspc/runtime/lua_states.h"

#include "dnspc/runtime/log.h"
#include "dnspc/runtime/registry.h"

namespace dnspc::runtime {
namespace {

// Hook failures reach the log as warnings; the hook runtime rate-limits them.
void log_hook_failure(void*, std::string_view line) { log(LogLevel::kWarning, std::string(line), {}); }

}  // namespace

bool build_lua_states(const PolicyImage& image, unsigned workers, LuaStates& out, std::string& error) {
  out.clear();
  if (image.lua.empty()) return true;
  std::vector<std::string> pools;
  for (const PoolSpec& p : image.pools) pools.push_back(p.name);
  for (unsigned w = 0; w < workers; ++w) {
    lua::HookSetup setup;
    setup.files = image.lua.files;
    setup.functions = image.lua.hooks;
    setup.pools = pools;
    setup.tags = image.tags;
    setup.limits.call_instructions = image.lua.call_instructions;
    setup.limits.load.memory_bytes = image.lua.memory_bytes;
    setup.log = log_hook_failure;
    std::unique_ptr<lua::HookRuntime> state = lua::HookRuntime::load(std::move(setup), error);
    if (!state) {
      out.clear();
      error = "Lua: " + error;
      return false;
    }
    out.push_back(std::move(state));
  }
  return true;
}

void bind_lua_stats(LuaStates& states, const PolicyImage& image, Registry& registry) {
  for (size_t w = 0; w < states.size() && w < registry.worker_count(); ++w) {
    std::vector<HookStats*> stats;
    for (const std::string& name : image.lua.hooks) {
      const int id = registry.find_lua_hook(name);
      stats.push_back(id < 0 ? nullptr : &registry.worker(static_cast<unsigned>(w)).lua_hooks[static_cast<uint32_t>(id)]);
    }
    states[w]->bind_stats(stats);
  }
}

}  // namespace dnspc::runtime
