#include "dnspc/runtime/kernel_maps.h"

#include <algorithm>
#include <cstring>

#include "dnspc/kernel_seal.h"

namespace dnspc::xdp {

namespace {

namespace k = dnspc::kernel;

constexpr uint32_t kDynamicBlocks = 65536;  // per family
constexpr uint32_t kListeners = 8192;

MapSpec spec(MapType type, uint32_t key, uint32_t value, size_t entries, const char* name) {
  MapSpec s;
  s.type = type;
  s.key_size = key;
  s.value_size = value;
  s.max_entries = static_cast<uint32_t>(entries ? entries : 1);
  s.name = name;
  return s;
}

template <typename Key, typename Value>
bool fill(Map& map, const std::vector<std::pair<Key, Value>>& entries, std::string& error) {
  std::vector<uint8_t> keys(entries.size() * sizeof(Key)), values(entries.size() * sizeof(Value));
  for (size_t i = 0; i < entries.size(); ++i) {
    std::memcpy(keys.data() + i * sizeof(Key), &entries[i].first, sizeof(Key));
    std::memcpy(values.data() + i * sizeof(Value), &entries[i].second, sizeof(Value));
  }
  return map.update_many(keys, values, entries.size(), error);
}

template <typename Value>
bool fill_array(Map& map, const std::vector<Value>& values, std::string& error) {
  std::vector<uint32_t> keys(values.size());
  for (uint32_t i = 0; i < keys.size(); ++i) keys[i] = i;
  return map.update_many({reinterpret_cast<const uint8_t*>(keys.data()), keys.size() * 4},
                         {reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(Value)}, values.size(),
                         error);
}

}  // namespace

std::unique_ptr<KernelMaps> KernelMaps::create(const kernel::KernelTables& t, std::string& error) {
  std::unique_ptr<KernelMaps> m(new KernelMaps);
  m->config_ = t.config;
  const kernel::Seal& seal = kernel::process_seal();
  std::copy(seal.begin(), seal.end(), m->config_.seal);
  m->rules_ = t.actions.size();
  const std::array<MapSpec, k::DNSPC_K_MAP_COUNT> specs = {
      spec(MapType::array, 4, sizeof(k::dnspc_k_config), 1, "dnspc_config"),
      spec(MapType::percpu_array, 4, sizeof(k::dnspc_k_view), 1, "dnspc_scratch"),
      spec(MapType::hash, sizeof(k::dnspc_k_name_key), sizeof(k::dnspc_k_lookup), t.names.size(), "dnspc_names"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm4), sizeof(k::dnspc_k_lookup), t.source4.size(), "dnspc_src4"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm6), sizeof(k::dnspc_k_lookup), t.source6.size(), "dnspc_src6"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm4), sizeof(k::dnspc_k_lookup), t.destination4.size(), "dnspc_dst4"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm6), sizeof(k::dnspc_k_lookup), t.destination6.size(), "dnspc_dst6"),
      spec(MapType::array, 4, sizeof(k::dnspc_k_action), t.actions.size(), "dnspc_actions"),
      spec(MapType::percpu_array, 4, 8, t.actions.size(), "dnspc_rule_hits"),
      spec(MapType::percpu_array, 4, 8, k::DNSPC_K_COUNTER_COUNT, "dnspc_counters"),
      spec(MapType::array, 4, 4, t.dfa.size(), "dnspc_dfa"),
      spec(MapType::array, 4, sizeof(k::dnspc_k_regex), t.regexes.size(), "dnspc_regexes"),
      spec(MapType::array, 4, 8, t.limiters.size(), "dnspc_rates"),
      spec(MapType::lru_hash, sizeof(k::dnspc_k_source_rate_key), 8, std::max<uint32_t>(t.source_rate_entries, 1024),
           "dnspc_src_rates"),
      spec(MapType::percpu_array, 4, 8, 1, "dnspc_random"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm4), sizeof(k::dnspc_k_dynblock), kDynamicBlocks, "dnspc_block4"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm6), sizeof(k::dnspc_k_dynblock), kDynamicBlocks, "dnspc_block6"),
      spec(MapType::hash, sizeof(k::dnspc_k_listener), 4, kListeners, "dnspc_listeners"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm4), 4, t.acl4.size(), "dnspc_acl4"),
      spec(MapType::lpm_trie, sizeof(k::dnspc_k_lpm6), 4, t.acl6.size(), "dnspc_acl6"),
      spec(MapType::array, 4, sizeof(k::dnspc_k_regex_rule), t.regex_rules.size(), "dnspc_regex_rules"),
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    m->maps_[i] = Map::create(specs[i], error);
    if (!m->maps_[i]) return nullptr;
  }
  auto& maps = m->maps_;
  const uint32_t zero = 0;
  if (!maps[k::DNSPC_K_MAP_CONFIG]->update(bytes_of(zero), bytes_of(m->config_), error) ||
      !fill(*maps[k::DNSPC_K_MAP_NAMES], t.names, error) || !fill(*maps[k::DNSPC_K_MAP_SRC4], t.source4, error) ||
      !fill(*maps[k::DNSPC_K_MAP_SRC6], t.source6, error) || !fill(*maps[k::DNSPC_K_MAP_DST4], t.destination4, error) ||
      !fill(*maps[k::DNSPC_K_MAP_DST6], t.destination6, error) ||
      !fill_array(*maps[k::DNSPC_K_MAP_ACTIONS], t.actions, error) ||
      !fill_array(*maps[k::DNSPC_K_MAP_DFA], t.dfa, error) ||
      !fill_array(*maps[k::DNSPC_K_MAP_REGEXES], t.regexes, error) ||
      !fill_array(*maps[k::DNSPC_K_MAP_REGEX_RULES], t.regex_rules, error) ||
      !m->set_random(0x9e3779b97f4a7c15ull, error)) {
    return nullptr;
  }
  const uint32_t one = 1;
  for (const k::dnspc_k_lpm4& key : t.acl4) {
    if (!maps[k::DNSPC_K_MAP_ACL4]->update(bytes_of(key), bytes_of(one), error)) return nullptr;
  }
  for (const k::dnspc_k_lpm6& key : t.acl6) {
    if (!maps[k::DNSPC_K_MAP_ACL6]->update(bytes_of(key), bytes_of(one), error)) return nullptr;
  }
  return m;
}

std::array<int, kernel::DNSPC_K_MAP_COUNT> KernelMaps::fds() const {
  std::array<int, k::DNSPC_K_MAP_COUNT> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = maps_[i]->fd();
  return out;
}

bool KernelMaps::add_listener(const NetAddress& listener, std::string& error) {
  k::dnspc_k_listener key{};
  key.family = listener.family == AddressFamily::kIPv4 ? 4 : 6;
  key.port = static_cast<uint16_t>((listener.port >> 8) | (listener.port << 8));  // network order
  std::memcpy(key.addr, listener.bytes, listener.family == AddressFamily::kIPv4 ? 4 : 16);
  const uint32_t one = 1;
  return maps_[k::DNSPC_K_MAP_LISTENERS]->update(bytes_of(key), bytes_of(one), error);
}

bool KernelMaps::block(const NetAddress& source, uint8_t length, k::dnspc_k_action_kind kind, uint8_t rcode,
                       uint64_t until_ns, std::string& error) {
  k::dnspc_k_dynblock b{};
  b.kind = static_cast<uint8_t>(kind);
  b.rcode = rcode;
  b.until_ns = until_ns;
  if (source.family == AddressFamily::kIPv4) {
    k::dnspc_k_lpm4 key{length, {}};
    std::memcpy(key.addr, source.bytes, 4);
    return maps_[k::DNSPC_K_MAP_DYNBLOCK4]->update(bytes_of(key), bytes_of(b), error);
  }
  k::dnspc_k_lpm6 key{length, {}};
  std::memcpy(key.addr, source.bytes, 16);
  return maps_[k::DNSPC_K_MAP_DYNBLOCK6]->update(bytes_of(key), bytes_of(b), error);
}

void KernelMaps::unblock(const NetAddress& source, uint8_t length) {
  if (source.family == AddressFamily::kIPv4) {
    k::dnspc_k_lpm4 key{length, {}};
    std::memcpy(key.addr, source.bytes, 4);
    maps_[k::DNSPC_K_MAP_DYNBLOCK4]->remove(bytes_of(key));
    return;
  }
  k::dnspc_k_lpm6 key{length, {}};
  std::memcpy(key.addr, source.bytes, 16);
  maps_[k::DNSPC_K_MAP_DYNBLOCK6]->remove(bytes_of(key));
}

uint64_t KernelMaps::counter(k::dnspc_k_counter which) const {
  return maps_[k::DNSPC_K_MAP_COUNTERS]->sum_u64(which).value_or(0);
}

std::vector<uint64_t> KernelMaps::counters() const { return maps_[k::DNSPC_K_MAP_COUNTERS]->sum_u64_all(); }

std::vector<uint64_t> KernelMaps::rule_hits() const {
  if (rules_ == 0) return {};
  return maps_[k::DNSPC_K_MAP_RULE_HITS]->sum_u64_all();
}

bool KernelMaps::set_clock(uint64_t now_ns, std::string& error) {
  k::dnspc_k_config c = config_;
  c.now_override = now_ns;
  const uint32_t zero = 0;
  return maps_[k::DNSPC_K_MAP_CONFIG]->update(bytes_of(zero), bytes_of(c), error);
}

bool KernelMaps::set_random(uint64_t state, std::string& error) {
  Map& m = *maps_[k::DNSPC_K_MAP_RANDOM];
  std::vector<uint8_t> values(m.value_buffer_size());
  for (size_t at = 0; at + 8 <= values.size(); at += 8) std::memcpy(values.data() + at, &state, 8);
  const uint32_t zero = 0;
  return m.update(bytes_of(zero), values, error);
}

}  // namespace dnspc::xdp
