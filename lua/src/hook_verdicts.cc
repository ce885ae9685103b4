// Verdict readers (hook_verdicts.h). They run inside the protected call and
// keep no C++ object with a destructor alive (Lua errors are longjmps).
#include "hook_verdicts.h"

#include <arpa/inet.h>

#include <cstring>

#include "dnspc/dns_names.h"

namespace dnspc::lua {
namespace {

constexpr const char* kActionShapes =
    "\"pool\", NAME | \"allow\" | \"drop\" | \"refuse\" | \"rcode\", RCODE | \"truncate\" | "
    "\"spoof\", {RECORDS} (or nil: no verdict)";

std::string_view string_at(lua_State* L, int index) {
  size_t length = 0;
  const char* s = lua_tolstring(L, index, &length);
  return {s, length};
}

// An rcode given by name ("NXDOMAIN") or number (0..15).
uint8_t read_rcode(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TNUMBER && lua_isinteger(L, index)) {
    const lua_Integer n = lua_tointeger(L, index);
    if (n >= 0 && n <= 15) return static_cast<uint8_t>(n);
    luaL_error(L, "rcode %d is out of range (0 to 15)", static_cast<int>(n));
  }
  if (lua_type(L, index) == LUA_TSTRING) {
    char upper[16] = "";
    const std::string_view name = string_at(L, index);
    for (size_t i = 0; i < name.size() && i + 1 < sizeof upper; ++i) {
      upper[i] = static_cast<char>(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    }
    if (auto rc = rcode_from_name(name.size() < sizeof upper ? std::string_view(upper) : name)) return *rc;
    luaL_error(L, "'%s' is no rcode (NOERROR, SERVFAIL, NXDOMAIN, REFUSED, ... or 0 to 15)", lua_tostring(L, index));
  }
  luaL_error(L, "an rcode is a name or a number, not a %s", luaL_typename(L, index));
  return 0;
}

// The pool's index by name.
uint16_t read_pool(lua_State* L, int index, const VerdictNames& names) {
  if (lua_type(L, index) != LUA_TSTRING) {
    luaL_error(L, "\"pool\" takes a pool name, not a %s", luaL_typename(L, index));
  }
  const std::string_view wanted = string_at(L, index);
  for (size_t i = 0; names.pools && i < names.pools->size(); ++i) {
    if ((*names.pools)[i] == wanted) return static_cast<uint16_t>(i);
  }
  luaL_error(L, "no pool '%s' in the policy", lua_tostring(L, index));
  return 0;
}

// One record in the policy's own words: "A 192.0.2.1", "AAAA 2001:db8::1",
// "CNAME target.example.", "TXT any text".
void read_record(lua_State* L, int index, uint32_t ttl, SpoofStorage& spoof) {
  if (lua_type(L, index) != LUA_TSTRING) {
    luaL_error(L, "a spoofed record is a string such as \"A 192.0.2.1\", not a %s", luaL_typename(L, index));
  }
  if (spoof.record_count == SpoofStorage::kMaxRecords) luaL_error(L, "at most 16 spoofed records");
  const std::string_view text = string_at(L, index);
  const size_t space = text.find(' ');
  const std::string_view type = text.substr(0, space);
  const std::string_view value = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  uint8_t* out = spoof.bytes + spoof.used;
  const size_t room = SpoofStorage::kMaxBytes - spoof.used;
  SpoofRecord& r = spoof.records[spoof.record_count];
  size_t length = 0;
  char address[64] = "";
  if ((type == "A" || type == "AAAA") && value.size() < sizeof address) {
    std::memcpy(address, value.data(), value.size());
    const bool v4 = type == "A";
    length = v4 ? 4 : 16;
    if (room < length || inet_pton(v4 ? AF_INET : AF_INET6, address, out) != 1) {
      luaL_error(L, "'%s': a spoofed %s record takes an IPv%d address", lua_tostring(L, index),
                 v4 ? "A" : "AAAA", v4 ? 4 : 6);
    }
    r.type = v4 ? qtype::kA : qtype::kAAAA;
  } else if (type == "CNAME") {
    length = room < 256 ? 0 : encode_name(value, out, 256);
    if (length == 0) luaL_error(L, "'%s': a spoofed CNAME takes a valid name", lua_tostring(L, index));
    r.type = qtype::kCNAME;
  } else if (type == "TXT") {
    if (value.size() > 4000 || value.size() > room) luaL_error(L, "a spoofed TXT record is at most 4000 bytes");
    std::memcpy(out, value.data(), value.size());
    length = value.size();
    r.type = qtype::kTXT;
  } else {
    luaL_error(L, "'%s': a spoofed record is A, AAAA, CNAME or TXT followed by its value", lua_tostring(L, index));
  }
  r.ttl = ttl;
  r.data = std::span<const uint8_t>(out, length);
  spoof.used += length;
  ++spoof.record_count;
}

// The options table that may end a verdict: {tags = {...}, ttl = N}.
uint32_t read_options(lua_State* L, int index, CallContext& context) {
  uint32_t ttl = 60;
  if (lua_isnoneornil(L, index)) return ttl;
  if (!lua_istable(L, index)) {
    luaL_error(L, "a verdict's last value may be an options table {tags = {...}, ttl = N}, not a %s",
               luaL_typename(L, index));
  }
  lua_pushliteral(L, "ttl");
  if (lua_rawget(L, index) != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 || lua_tointeger(L, -1) > 2'147'483'647) {
      luaL_error(L, "ttl is a whole number of seconds from 0 to 2147483647");
    }
    ttl = static_cast<uint32_t>(lua_tointeger(L, -1));
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "tags");
  if (lua_rawget(L, index) != LUA_TNIL) {
    if (!lua_istable(L, -1)) luaL_error(L, "tags is a list of tag names");
    const int list = lua_gettop(L);
    for (lua_Integer i = 1; lua_rawgeti(L, list, i) != LUA_TNIL; ++i) {
      if (context.query) context.query->tags |= uint64_t{1} << tag_bit(L, context, lua_gettop(L));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return ttl;
}

}  // namespace

ActionVerdict read_action_verdict(lua_State* L, int first, const VerdictNames& names, CallContext& context,
                                  SpoofStorage& spoof) {
  using K = ActionVerdict::Kind;
  ActionVerdict v;
  if (lua_isnoneornil(L, first)) return v;
  if (lua_type(L, first) != LUA_TSTRING) {
    luaL_error(L, "returned a %s; a Lua action returns %s", luaL_typename(L, first), kActionShapes);
  }
  const std::string_view word = string_at(L, first);
  int options = first + 1;
  if (word == "pool") {
    v.kind = K::kPool;
    v.pool = read_pool(L, first + 1, names);
    options = first + 2;
  } else if (word == "allow") {
    v.kind = K::kAllow;
  } else if (word == "drop") {
    v.kind = K::kDrop;
  } else if (word == "refuse") {
    v.kind = K::kRefuse;
  } else if (word == "truncate") {
    v.kind = K::kTruncate;
  } else if (word == "rcode") {
    v.kind = K::kRcode;
    v.rcode = read_rcode(L, first + 1);
    options = first + 2;
  } else if (word == "spoof") {
    v.kind = K::kSpoof;
    options = first + 2;
  } else {
    luaL_error(L, "returned \"%s\"; a Lua action returns %s", lua_tostring(L, first), kActionShapes);
  }
  const uint32_t ttl = read_options(L, options, context);
  if (v.kind == K::kSpoof) {
    spoof.record_count = 0;
    spoof.used = 0;
    if (!lua_istable(L, first + 1)) {
      luaL_error(L, "\"spoof\" takes a list of records such as {\"A 192.0.2.1\"}, not a %s",
                 luaL_typename(L, first + 1));
    }
    for (lua_Integer i = 1; lua_rawgeti(L, first + 1, i) != LUA_TNIL; ++i) {
      read_record(L, lua_gettop(L), ttl, spoof);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (spoof.record_count == 0) luaL_error(L, "\"spoof\" needs at least one record");
    bool cname = false;
    for (size_t i = 0; i < spoof.record_count; ++i) cname = cname || spoof.records[i].type == qtype::kCNAME;
    if (cname && spoof.record_count > 1) {
      luaL_error(L, "a spoofed CNAME cannot stand beside other records (RFC 1034 3.6.2)");
    }
    v.records = std::span<const SpoofRecord>(spoof.records, spoof.record_count);
  }
  return v;
}

AnswerVerdict read_answer_verdict(lua_State* L, int first) {
  using K = AnswerVerdict::Kind;
  AnswerVerdict v;
  if (lua_isnoneornil(L, first)) return v;
  if (lua_type(L, first) == LUA_TSTRING) {
    const std::string_view word = string_at(L, first);
    if (word == "keep") return v;
    if (word == "drop") {
      v.kind = K::kDrop;
      return v;
    }
    if (word == "truncate") {
      v.kind = K::kTruncate;
      return v;
    }
    if (word == "rcode") {
      v.kind = K::kRcode;
      v.rcode = read_rcode(L, first + 1);
      return v;
    }
  }
  luaL_error(L, "returned %s; a response hook returns \"keep\" (or nil), \"drop\", \"truncate\" or \"rcode\", RCODE",
             lua_type(L, first) == LUA_TSTRING ? lua_tostring(L, first) : luaL_typename(L, first));
  return v;
}

PickResult read_pick(lua_State* L, int first, size_t count) {
  PickResult r;
  if (lua_isnoneornil(L, first)) {
    r.kind = PickResult::Kind::kNone;
    return r;
  }
  if (!lua_isinteger(L, first)) {
    luaL_error(L, "returned a %s; a load-balancing hook returns a server's index (1 to %d) or nil",
               luaL_typename(L, first), static_cast<int>(count));
  }
  const lua_Integer i = lua_tointeger(L, first);
  if (i < 1 || static_cast<uint64_t>(i) > count) {
    luaL_error(L, "returned %d; the pool's servers are 1 to %d", static_cast<int>(i), static_cast<int>(count));
  }
  r.kind = PickResult::Kind::kServer;
  r.server = static_cast<uint32_t>(i - 1);
  return r;
}

}  // namespace dnspc::lua
