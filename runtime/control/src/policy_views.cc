#include "policy_views.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>

#include "dnspc/dns_names.h"
#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/metrics.h"
#include "dnspc/runtime/registry.h"
#include "reload_json.h"

namespace dnspc::runtime {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string_field(Writer& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

std::string done(const rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

// "pool main", "rcode NXDOMAIN", "lua silence": a rule's action as the policy says it.
std::string action_text(const PolicyImage& image, ActionKind kind, uint16_t argument, bool response) {
  std::string out = action_kind_name(kind);
  switch (kind) {
    case ActionKind::kPool:
    case ActionKind::kAllow:
      if (!response && argument < image.pools.size()) out += " " + image.pools[argument].name;
      break;
    case ActionKind::kRcode:
      out += " " + rcode_name(static_cast<uint8_t>(argument));
      break;
    case ActionKind::kLua: {
      const std::vector<uint32_t>& uses = response ? image.lua.response_uses : image.lua.query_uses;
      if (argument < uses.size() && uses[argument] < image.lua.hooks.size()) out += " " + image.lua.hooks[uses[argument]];
      break;
    }
    default:
      break;
  }
  if (response && kind == ActionKind::kAllow) out = "tag/log only";
  return out;
}

bool contains_folded(std::string_view text, std::string_view part) {
  auto fold = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  return std::search(text.begin(), text.end(), part.begin(), part.end(),
                     [&](char a, char b) { return fold(a) == fold(b); }) != text.end();
}

uint64_t rule_hits(const Registry& r, uint32_t id) {
  uint64_t total = 0;
  for (unsigned w = 0; w < r.worker_count(); ++w) total += r.worker(w).rule_hits[id].get();
  return total;
}

}  // namespace

std::string pools_json(const ActivePolicy& p) {
  const PolicyImage& image = *p.image;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("pools");
  w.StartArray();
  for (const PoolSpec& pool : image.pools) {
    w.StartObject();
    string_field(w, "name", pool.name);
    string_field(w, "policy", lb_policy_name(pool.policy));
    if (pool.policy == LbPolicy::kLua && pool.lua_hook < image.lua.hooks.size()) {
      string_field(w, "lua_policy", image.lua.hooks[pool.lua_hook]);
    }
    string_field(w, "on_no_server", pool.servfail_on_no_server ? "servfail" : "drop");
    w.Key("servers");
    w.StartArray();
    for (const ServerSpec& s : pool.servers) {
      const std::string key = Registry::server_key(pool.name, s.address);
      w.String(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return done(buf);
}

std::string rules_json(const ActivePolicy& p, const Registry& r, size_t offset, size_t limit, std::string_view filter) {
  const PolicyImage& image = *p.image;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("total");
  w.Uint64(image.rules.size() + image.response_rules.size());
  w.Key("offset");
  w.Uint64(offset);
  w.Key("limit");
  w.Uint64(limit);
  string_field(w, "filter", filter);
  w.Key("rules");
  w.StartArray();
  size_t matching = 0;
  auto one = [&](const std::string& name, uint32_t id, ActionKind kind, uint16_t argument, bool response) {
    if (!filter.empty() && !contains_folded(name, filter)) return;
    const size_t index = matching++;
    if (index < offset || index - offset >= limit) return;
    w.StartObject();
    string_field(w, "name", name);
    string_field(w, "kind", response ? "response" : "query");
    string_field(w, "action", action_text(image, kind, argument, response));
    w.Key("hits");
    w.Uint64(rule_hits(r, id));
    w.EndObject();
  };
  for (size_t i = 0; i < image.rules.size(); ++i) {
    const RuleSpec& rule = image.rules[i];
    one(rule.name, p.rule_ids[i], rule.action, rule.argument, false);
  }
  for (size_t i = 0; i < image.response_rules.size(); ++i) {
    const ResponseRuleSpec& rule = image.response_rules[i];
    one(rule.name, p.response_rule_ids[i], rule.action, rule.argument, true);
  }
  w.EndArray();
  w.Key("matching");
  w.Uint64(matching);
  w.EndObject();
  return done(buf);
}

std::string policy_json(const ActivePolicy& p, const ReloadSummary& last) {
  const PolicyImage& image = *p.image;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  string_field(w, "file", image.path);
  string_field(w, "hash", image.source_hash);
  string_field(w, "compiled_at", image.compiled_at);
  w.Key("rules");
  w.Uint64(image.rules.size());
  w.Key("response_rules");
  w.Uint64(image.response_rules.size());
  w.Key("pools");
  w.Uint64(image.pools.size());
  w.Key("lua_files");
  w.StartArray();
  for (const auto& file : image.lua.files) w.String(file.first.data(), static_cast<rapidjson::SizeType>(file.first.size()));
  w.EndArray();
  write_last_reload(w, last);
  w.EndObject();
  return done(buf);
}

}  // namespace dnspc::runtime
