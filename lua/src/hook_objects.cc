// The query, answer and server-list objects (hook_objects.h). Every function
// here runs inside a protected call and keeps no C++ object with a
// destructor alive: Lua errors are longjmps (sandbox.h).
#include "hook_objects.h"

#include <arpa/inet.h>

#include <cstring>

#include "dnspc/wire.h"

namespace dnspc::lua {
namespace {

// Registry keys (their addresses) of the per-state objects.
const char kQueryKey = 0;
const char kAnswerKey = 0;
const char kServerListsKey = 0;
const char kQueryMeta = 0;
const char kAnswerMeta = 0;
const char kServerListMeta = 0;
const char kServerMeta = 0;

CallContext& context_of(lua_State* L, int index) {
  return **static_cast<CallContext**>(lua_touserdata(L, index));
}

HookQuery& current_query(lua_State* L, CallContext& c) {
  if (c.query == nullptr) luaL_error(L, "the query object is only valid during the hook call it was given to");
  return *c.query;
}

void push_address(lua_State* L, const NetAddress& a) {
  char text[INET6_ADDRSTRLEN] = "";
  if (a.is_v4()) inet_ntop(AF_INET, a.bytes, text, sizeof text);
  if (a.is_v6()) inet_ntop(AF_INET6, a.bytes, text, sizeof text);
  lua_pushstring(L, text);
}

// "192.0.2.0/24" for the client subnet the query carries, or nil.
void push_ecs(lua_State* L, const QueryView& q) {
  if (!q.ecs_present) {
    lua_pushnil(L);
    return;
  }
  NetAddress a;
  a.family = q.ecs_family;
  std::memcpy(a.bytes, q.ecs_address, sizeof a.bytes);
  char text[INET6_ADDRSTRLEN] = "";
  if (a.is_v4()) inet_ntop(AF_INET, a.bytes, text, sizeof text);
  if (a.is_v6()) inet_ntop(AF_INET6, a.bytes, text, sizeof text);
  lua_pushfstring(L, "%s/%d", text, static_cast<int>(q.ecs_source_prefix));
}

// The option codes in the OPT record, in order (the first ones recorded).
void push_options(lua_State* L, const QueryView& q) {
  const unsigned n = q.edns_option_count < kMaxRecordedEdnsOptions ? q.edns_option_count : kMaxRecordedEdnsOptions;
  lua_createtable(L, static_cast<int>(n), 0);
  for (unsigned i = 0; i < n; ++i) {
    lua_pushinteger(L, q.edns_options[i]);
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
}

void push_tags(lua_State* L, const CallContext& c, uint64_t tags) {
  lua_createtable(L, 0, 0);
  int n = 0;
  for (uint64_t bits = tags; bits; bits &= bits - 1) {
    const unsigned bit = static_cast<unsigned>(__builtin_ctzll(bits));
    if (c.tag_names == nullptr || bit >= c.tag_names->size()) continue;
    const std::string& name = (*c.tag_names)[bit];
    lua_pushlstring(L, name.data(), name.size());
    lua_rawseti(L, -2, ++n);
  }
}

// Methods can be called with anything as self (`local f = q.tag; f("x")`).
CallContext& checked_query(lua_State* L) {
  void* object = lua_touserdata(L, 1);
  bool ok = object != nullptr && lua_getmetatable(L, 1) != 0;
  if (ok) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &kQueryMeta);
    ok = lua_rawequal(L, -1, -2) != 0;
    lua_pop(L, 2);
  }
  if (!ok) luaL_error(L, "call it as a method of the query: q:tag(NAME), q:tagged(NAME)");
  return **static_cast<CallContext**>(object);
}

int query_tag(lua_State* L) {
  CallContext& c = checked_query(L);
  HookQuery& q = current_query(L, c);
  q.tags |= uint64_t{1} << tag_bit(L, c, 2);
  return 0;
}

int query_tagged(lua_State* L) {
  CallContext& c = checked_query(L);
  HookQuery& q = current_query(L, c);
  lua_pushboolean(L, (q.tags >> tag_bit(L, c, 2)) & 1);
  return 1;
}

// Fields by name; a name that is no field is an error, so a typo shows in the
// hook's error counter and log instead of reading as nil.
int query_index(lua_State* L) {
  CallContext& c = context_of(L, 1);
  HookQuery& hq = current_query(L, c);
  const QueryView& q = *hq.view;
  size_t length = 0;
  const char* key = luaL_checklstring(L, 2, &length);
  const std::string_view k(key, length);
  auto flag = [&](uint16_t bit) { lua_pushboolean(L, q.has_flag(bit)); };
  if (k == "qname") {
    char text[kMaxNameLength + 2];
    lua_pushlstring(L, text, qname_text(q, text, sizeof text));
  } else if (k == "qtype") {
    lua_pushinteger(L, q.qtype);
  } else if (k == "qclass") {
    lua_pushinteger(L, q.qclass);
  } else if (k == "labels") {
    lua_pushinteger(L, q.label_count);
  } else if (k == "size") {
    lua_pushinteger(L, q.size);
  } else if (k == "id") {
    lua_pushinteger(L, q.id);
  } else if (k == "opcode") {
    lua_pushinteger(L, q.opcode);
  } else if (k == "src") {
    push_address(L, q.source);
  } else if (k == "src_port") {
    lua_pushinteger(L, q.source.port);
  } else if (k == "dst") {
    push_address(L, q.destination);
  } else if (k == "dst_port") {
    lua_pushinteger(L, q.destination.port);
  } else if (k == "transport") {
    lua_pushstring(L, q.transport == Transport::kTcp ? "tcp" : "udp");
  } else if (k == "rd") {
    flag(header_bits::kRD);
  } else if (k == "cd") {
    flag(header_bits::kCD);
  } else if (k == "ad") {
    flag(header_bits::kAD);
  } else if (k == "aa") {
    flag(header_bits::kAA);
  } else if (k == "tc") {
    flag(header_bits::kTC);
  } else if (k == "ra") {
    flag(header_bits::kRA);
  } else if (k == "edns") {
    lua_pushboolean(L, q.edns_present != 0);
  } else if (k == "dnssec_ok") {
    lua_pushboolean(L, q.edns_do != 0);
  } else if (k == "payload") {
    lua_pushinteger(L, q.edns_payload);
  } else if (k == "edns_version") {
    lua_pushinteger(L, q.edns_version);
  } else if (k == "options") {
    push_options(L, q);
  } else if (k == "ecs") {
    push_ecs(L, q);
  } else if (k == "rule") {
    lua_pushlstring(L, hq.rule.data(), hq.rule.size());
  } else if (k == "tags") {
    push_tags(L, c, hq.tags);
  } else if (k == "tag") {
    lua_pushcfunction(L, query_tag);
  } else if (k == "tagged") {
    lua_pushcfunction(L, query_tagged);
  } else {
    return luaL_error(L, "the query has no field '%s' (docs/lua.md lists its fields)", key);
  }
  return 1;
}

int answer_index(lua_State* L) {
  CallContext& c = context_of(L, 1);
  if (c.answer == nullptr) return luaL_error(L, "the answer object is only valid during its hook call");
  const ResponseFacts& a = *c.answer;
  size_t length = 0;
  const char* key = luaL_checklstring(L, 2, &length);
  const std::string_view k(key, length);
  if (k == "rcode") {
    lua_pushinteger(L, a.rcode);
  } else if (k == "answers") {
    lua_pushinteger(L, a.answers);
  } else if (k == "latency_us") {
    lua_pushinteger(L, static_cast<lua_Integer>(a.latency_us));
  } else if (k == "latency_ms") {
    lua_pushnumber(L, static_cast<lua_Number>(a.latency_us) / 1000.0);
  } else if (k == "size") {
    lua_pushinteger(L, a.size);
  } else {
    return luaL_error(L, "the answer has no field '%s' (docs/lua.md lists its fields)", key);
  }
  return 1;
}

// A server object: its context and its index in the pool.
struct ServerRef {
  CallContext* context;
  uint32_t index;
};

int server_index(lua_State* L) {
  const ServerRef& ref = *static_cast<ServerRef*>(lua_touserdata(L, 1));
  const CallContext& c = *ref.context;
  if (c.query == nullptr || ref.index >= c.servers.size()) {
    return luaL_error(L, "the server object is only valid during the load-balancing call it was given to");
  }
  const HookServer& s = c.servers[ref.index];
  size_t length = 0;
  const char* key = luaL_checklstring(L, 2, &length);
  const std::string_view k(key, length);
  if (k == "name") {
    char text[INET6_ADDRSTRLEN + 16] = "";
    {  // gone before Lua may raise an error
      const std::string name = s.address->to_string(true);
      std::strncpy(text, name.c_str(), sizeof text - 1);
    }
    lua_pushstring(L, text);
  } else if (k == "address") {
    push_address(L, *s.address);
  } else if (k == "port") {
    lua_pushinteger(L, s.address->port);
  } else if (k == "up") {
    lua_pushboolean(L, s.up);
  } else if (k == "outstanding") {
    lua_pushinteger(L, s.outstanding);
  } else if (k == "latency_us") {
    lua_pushinteger(L, s.latency_us);
  } else if (k == "latency_ms") {
    lua_pushnumber(L, static_cast<lua_Number>(s.latency_us) / 1000.0);
  } else if (k == "weight") {
    lua_pushinteger(L, s.weight);
  } else if (k == "order") {
    lua_pushinteger(L, s.order);
  } else if (k == "qps_headroom") {
    if (s.qps_headroom < 0) {
      lua_pushnil(L);
    } else {
      lua_pushinteger(L, s.qps_headroom);
    }
  } else if (k == "queries") {
    lua_pushinteger(L, static_cast<lua_Integer>(s.queries));
  } else if (k == "index") {
    lua_pushinteger(L, static_cast<lua_Integer>(ref.index) + 1);
  } else {
    return luaL_error(L, "a server has no field '%s' (docs/lua.md lists its fields)", key);
  }
  return 1;
}

// servers[i]: the i-th server object (1-based), nil past the pool's end, so
// ipairs and numeric loops work; the objects are cached in the list's user
// value and made on first use.
int server_list_index(lua_State* L) {
  CallContext& c = context_of(L, 1);
  if (!lua_isinteger(L, 2)) return luaL_error(L, "servers are indexed by number (1 to #servers)");
  const lua_Integer i = lua_tointeger(L, 2);
  if (i < 1 || static_cast<uint64_t>(i) > c.servers.size()) {
    lua_pushnil(L);
    return 1;
  }
  lua_getiuservalue(L, 1, 1);
  if (lua_rawgeti(L, -1, i) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  auto* ref = static_cast<ServerRef*>(lua_newuserdatauv(L, sizeof(ServerRef), 0));
  ref->context = &c;
  ref->index = static_cast<uint32_t>(i - 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kServerMeta);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, i);
  return 1;
}

int server_list_length(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(context_of(L, 1).servers.size()));
  return 1;
}

int read_only(lua_State* L) {
  return luaL_error(L, "this object is read-only (tags are set with q:tag(NAME))");
}

// A metatable in the registry under `key` with these handlers; protected
// from getmetatable/setmetatable.
void make_metatable(lua_State* L, const char* key, lua_CFunction index, lua_CFunction length = nullptr) {
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, read_only);
  lua_setfield(L, -2, "__newindex");
  if (length != nullptr) {
    lua_pushcfunction(L, length);
    lua_setfield(L, -2, "__len");
  }
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

// A userdata holding `context`, with the metatable at `meta`, kept at `key`.
void make_object(lua_State* L, CallContext* context, const char* meta, int user_values) {
  auto** slot = static_cast<CallContext**>(lua_newuserdatauv(L, sizeof(CallContext*), user_values));
  *slot = context;
  lua_rawgetp(L, LUA_REGISTRYINDEX, meta);
  lua_setmetatable(L, -2);
}

}  // namespace

int tag_bit(lua_State* L, const CallContext& context, int name_index) {
  size_t length = 0;
  const char* name = luaL_checklstring(L, name_index, &length);
  const std::string_view wanted(name, length);
  const std::vector<std::string>* names = context.tag_names;
  if (names != nullptr) {
    for (size_t bit = 0; bit < names->size(); ++bit) {
      if ((*names)[bit] == wanted) return static_cast<int>(bit);
    }
  }
  if (names == nullptr || names->empty()) {
    return luaL_error(L, "no tag '%s': the policy tags nothing (a tag must appear in some rule's 'tag')", name);
  }
  luaL_Buffer known;
  luaL_buffinit(L, &known);
  for (size_t i = 0; i < names->size() && i < 8; ++i) {
    if (i) luaL_addstring(&known, ", ");
    luaL_addlstring(&known, (*names)[i].data(), (*names)[i].size());
  }
  luaL_pushresult(&known);
  return luaL_error(L, "no tag '%s' in the policy (its tags: %s)", name, lua_tostring(L, -1));
}

void create_call_objects(lua_State* L, CallContext* context) {
  make_metatable(L, &kQueryMeta, query_index);
  make_metatable(L, &kAnswerMeta, answer_index);
  make_metatable(L, &kServerListMeta, server_list_index, server_list_length);
  make_metatable(L, &kServerMeta, server_index);
  make_object(L, context, &kQueryMeta, 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kQueryKey);
  make_object(L, context, &kAnswerMeta, 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kAnswerKey);
  lua_newtable(L);  // pool index -> server list
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kServerListsKey);
}

void push_query_object(lua_State* L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &kQueryKey); }

void push_answer_object(lua_State* L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &kAnswerKey); }

void push_server_list(lua_State* L, uint32_t pool) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kServerListsKey);
  if (lua_rawgeti(L, -1, static_cast<lua_Integer>(pool) + 1) != LUA_TNIL) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  // The query object's context is every object's context.
  push_query_object(L);
  CallContext* context = &context_of(L, -1);
  lua_pop(L, 1);
  make_object(L, context, &kServerListMeta, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, static_cast<lua_Integer>(pool) + 1);
  lua_remove(L, -2);
}

}  // namespace dnspc::lua
