#include "dnspc/lua/hook_runtime.h"

#include <lua.hpp>

#include <arpa/inet.h>
#include <fmt/core.h>

#include <cstring>

#include "dnspc/wire.h"
#include "sandbox.h"

namespace dnspc::lua {

struct HookRuntime::Impl {
  explicit Impl(const HookLimits& l) : limits(l), sandbox(l.load) {}
  HookLimits limits;
  Sandbox sandbox;
  std::vector<int> refs;  // registry references of the bound functions
};

HookRuntime::HookRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HookRuntime::~HookRuntime() {
  if (lua_State* L = impl_->sandbox.state()) {
    for (int ref : impl_->refs) luaL_unref(L, LUA_REGISTRYINDEX, ref);
  }
}

std::unique_ptr<HookRuntime> HookRuntime::load(const std::vector<std::pair<std::string, std::string>>& files,
                                               const std::vector<std::string>& functions, std::string& error,
                                               const HookLimits& limits) {
  auto impl = std::make_unique<Impl>(limits);
  lua_State* L = impl->sandbox.state();
  if (!L) {
    error = "the Lua state does not fit in its memory limit";
    return nullptr;
  }
  for (const auto& [path, source] : files) {
    if (auto e = impl->sandbox.run_chunk(path, source)) {
      error = to_string(path, *e);
      return nullptr;
    }
  }
  for (const std::string& name : functions) {
    lua_getglobal(L, name.c_str());
    if (!lua_isfunction(L, -1)) {
      lua_pop(L, 1);
      error = fmt::format("Lua global '{}' is not a function", name);
      return nullptr;
    }
    impl->refs.push_back(luaL_ref(L, LUA_REGISTRYINDEX));
  }
  return std::unique_ptr<HookRuntime>(new HookRuntime(std::move(impl)));
}

namespace {

// No C++ object with a destructor may live across these calls: a Lua error
// (out of memory) longjmps over them (see sandbox.h).
void set_string(lua_State* L, const char* key, const char* v, size_t len) {
  lua_pushlstring(L, v, len);
  lua_setfield(L, -2, key);
}

void set_address(lua_State* L, const char* key, const NetAddress& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a.is_v4()) inet_ntop(AF_INET, a.bytes, buf, sizeof buf);
  if (a.is_v6()) inet_ntop(AF_INET6, a.bytes, buf, sizeof buf);
  set_string(L, key, buf, std::strlen(buf));
}

void set_integer(lua_State* L, const char* key, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}

void set_boolean(lua_State* L, const char* key, bool v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, key);
}

// The query as hooks see it (docs/language.md, "Lua hooks").
int push_query(lua_State* L) {
  const QueryView& q = *static_cast<const QueryView*>(lua_touserdata(L, 1));
  lua_createtable(L, 0, 16);
  char text[256];
  set_string(L, "qname", text, qname_text(q, text, sizeof text));
  set_integer(L, "qtype", q.qtype);
  set_integer(L, "qclass", q.qclass);
  set_integer(L, "labels", q.label_count);
  set_integer(L, "size", q.size);
  set_address(L, "src", q.source);
  set_integer(L, "src_port", q.source.port);
  set_address(L, "dst", q.destination);
  set_string(L, "transport", q.transport == Transport::kTcp ? "tcp" : "udp", 3);
  set_boolean(L, "rd", q.has_flag(header_bits::kRD));
  set_boolean(L, "cd", q.has_flag(header_bits::kCD));
  set_boolean(L, "edns", q.edns_present != 0);
  set_boolean(L, "dnssec_ok", q.edns_do != 0);
  set_integer(L, "payload", q.edns_payload);
  return 1;
}

}  // namespace

bool HookRuntime::predicate(uint32_t index, const QueryView& query) {
  lua_State* L = impl_->sandbox.state();
  if (index >= impl_->refs.size()) return false;
  int top = lua_gettop(L);
  impl_->sandbox.reset_instruction_budget();
  // Building the table may run out of memory, so it runs under pcall too.
  lua_pushcfunction(L, push_query);
  lua_pushlightuserdata(L, const_cast<QueryView*>(&query));
  bool ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
  if (ok) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, impl_->refs[index]);
    lua_insert(L, -2);
    ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
  }
  bool result = false;
  if (!ok) {
    ++errors_;
    const char* msg = lua_tostring(L, -1);
    last_error_ = impl_->sandbox.instructions_exhausted() ? "instruction limit reached" : (msg ? msg : "error");
  } else if (lua_isboolean(L, -1)) {
    result = lua_toboolean(L, -1);
  } else if (!lua_isnil(L, -1)) {
    ++errors_;
    last_error_ = "a Lua predicate must return true or false";
  }
  lua_settop(L, top);
  return result;
}

bool HookRuntime::call_predicate(void* context, uint32_t index, const QueryView* query) {
  return static_cast<HookRuntime*>(context)->predicate(index, *query);
}

}  // namespace dnspc::lua
