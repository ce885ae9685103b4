// The objects hooks receive: the query, a backend's answer and a pool's
// server list. Each is a userdata made once per Lua state whose fields are
// read on access from the call in progress (CallContext), so a field a hook
// never reads costs nothing, and a call allocates nothing to pass them.
// Private to lua/.
#pragma once

#include <lua.hpp>

#include <span>
#include <string>
#include <vector>

#include "dnspc/lua/hook_runtime.h"

namespace dnspc::lua {

// What the objects read; set by the runtime around each call. Outside a
// call `query` is null and the objects refuse to be read (a hook that kept
// one in a global learns so, instead of reading a stale packet).
struct CallContext {
  HookQuery* query = nullptr;
  const ResponseFacts* answer = nullptr;
  std::span<const HookServer> servers;
  const std::vector<std::string>* tag_names = nullptr;
};

// Creates the query and answer objects of this state (under pcall: allocates).
void create_call_objects(lua_State* L, CallContext* context);
// Pushes them (no allocation).
void push_query_object(lua_State* L);
void push_answer_object(lua_State* L);
// Pushes pool `pool`'s server list, creating it on first use (may allocate:
// call under pcall).
void push_server_list(lua_State* L, uint32_t pool);

// The bit of tag `name`, or raises a Lua error naming the policy's tags.
int tag_bit(lua_State* L, const CallContext& context, int name_index);

}  // namespace dnspc::lua
