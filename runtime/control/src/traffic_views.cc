#include "dnspc/runtime/traffic_views.h"

#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

#include "dnspc/dns_names.h"
#include "dnspc/verdict.h"

namespace dnspc::runtime {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr size_t kMaxN = 10'000;
constexpr uint8_t kServFail = 2, kNxDomain = 3;

enum class Ring { kQueries, kAnswers };

std::vector<TrafficRecord> collect(const Registry& r, Ring ring) {
  std::vector<TrafficRecord> out;
  for (unsigned w = 0; w < r.worker_count(); ++w) {
    const WorkerRings& rings = r.rings(w);
    (ring == Ring::kQueries ? rings.queries : rings.answers).snapshot(out);
  }
  return out;
}

void key(Writer& w, const char* k) { w.Key(k); }
void text(Writer& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

std::string rule_label(const Registry& r, const ActivePolicy& p, const TrafficRecord& t) {
  if (t.block) {
    const auto& blocks = p.image->dynblocks;
    return t.rule < blocks.size() ? "dynblock " + blocks[t.rule].name : "dynblock";
  }
  return t.rule < r.rule_count() ? r.rule_name(t.rule) : "";
}

const char* source_name(uint8_t s) {
  switch (static_cast<AnswerSource>(s)) {
    case AnswerSource::kBackend: return "backend";
    case AnswerSource::kLocal: return "local";
    case AnswerSource::kTimeout: return "timeout";
    case AnswerSource::kCache: return "cache";
  }
  return "?";
}

void record_json(Writer& w, const Registry& r, const ActivePolicy& p, const TrafficRecord& t, uint64_t now_ns,
                 bool answer) {
  w.StartObject();
  key(w, "age_ms");
  w.Uint64(now_ns > t.time_ns ? (now_ns - t.time_ns) / 1'000'000 : 0);
  key(w, "client");
  text(w, t.client.to_string(false));
  key(w, "qname");
  text(w, name_text(t.qname, t.qname_length));
  key(w, "qtype");
  text(w, qtype_name(t.qtype));
  key(w, "transport");
  w.String(t.transport == static_cast<uint8_t>(Transport::kTcp) ? "tcp" : "udp");
  key(w, "rule");
  text(w, rule_label(r, p, t));
  key(w, "action");
  w.String(action_kind_name(static_cast<ActionKind>(t.action)));
  key(w, "server");
  if (t.server < r.server_count()) {
    text(w, r.server(t.server).key);
  } else {
    w.Null();
  }
  key(w, "size");
  w.Uint(t.size);
  if (answer) {
    key(w, "rcode");
    text(w, rcode_name(t.rcode));
    key(w, "latency_us");
    w.Uint(t.latency_us);
    key(w, "source");
    w.String(source_name(t.source));
  }
  w.EndObject();
}

bool parse_count(std::string_view word, size_t& out) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
  if (ec != std::errc() || end != word.data() + word.size() || n == 0) return false;
  out = std::min(n, kMaxN);
  return true;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string client_key(const NetAddress& a) { return a.to_string(false); }

// Counts by key, then the n largest (ties: the key, for stable output).
void top_counts(Writer& w, std::unordered_map<std::string, uint64_t>& counts, size_t n, uint64_t total) {
  std::vector<std::pair<std::string, uint64_t>> v(counts.begin(), counts.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  key(w, "total");
  w.Uint64(total);
  key(w, "top");
  w.StartArray();
  for (const auto& [k, c] : v) {
    w.StartObject();
    key(w, "key");
    text(w, k);
    key(w, "count");
    w.Uint64(c);
    w.EndObject();
  }
  w.EndArray();
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative `*` matching with one backtrack point: linear in practice.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool in_netmask(const NetAddress& a, const NetAddress& net, unsigned length) {
  if (a.family != net.family) return false;
  unsigned full = length / 8, rest = length % 8;
  if (std::memcmp(a.bytes, net.bytes, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (net.bytes[full] & mask);
}

}  // namespace

std::string name_text(const uint8_t* wire, unsigned length, unsigned labels) {
  // Label starts, to keep only the last `labels`.
  unsigned starts[128];
  unsigned count = 0;
  for (unsigned i = 0; i < length && wire[i] != 0 && count < 128; i += 1u + wire[i]) starts[count++] = i;
  unsigned first = labels > 0 && labels < count ? starts[count - labels] : 0;
  std::string out;
  for (unsigned i = first; i < length && wire[i] != 0;) {
    unsigned len = wire[i];
    for (unsigned k = 1; k <= len && i + k < length; ++k) {
      unsigned char c = wire[i + k];
      if (c == '.' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x21 || c > 0x7e) {
        out += fmt::format("\\{:03d}", c);
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '.';
    i += 1u + len;
  }
  return out.empty() ? "." : out;
}

std::string parse_top(std::string_view args, TopRequest& out) {
  static const std::pair<std::string_view, TopKind> kinds[] = {
      {"queries", TopKind::kQueries},
      {"clients", TopKind::kClients},
      {"servfail-names", TopKind::kServfailNames},
      {"servfail-clients", TopKind::kServfailClients},
      {"nxdomain-names", TopKind::kNxdomainNames},
      {"slow", TopKind::kSlow},
      {"rcodes", TopKind::kRcodes},
      {"responses", TopKind::kResponses}};
  std::vector<std::string_view> w = words(args);
  if (w.empty()) {
    return "top needs a list: queries, clients, servfail-names, servfail-clients, nxdomain-names, slow, rcodes, "
           "responses RCODE";
  }
  auto it = std::find_if(std::begin(kinds), std::end(kinds), [&](const auto& k) { return k.first == w[0]; });
  if (it == std::end(kinds)) {
    return fmt::format("no top list '{}'; the lists are queries, clients, servfail-names, servfail-clients, "
                       "nxdomain-names, slow, rcodes, responses RCODE",
                       w[0]);
  }
  out.kind = it->second;
  size_t first = 1;
  if (out.kind == TopKind::kResponses) {
    // The names of the answers with one rcode: `top responses REFUSED 10`.
    std::optional<uint8_t> rcode = w.size() > 1 ? rcode_from_name(w[1]) : std::nullopt;
    if (!rcode) return "top responses needs an rcode, like NXDOMAIN, SERVFAIL or REFUSED (top responses RCODE [N])";
    out.rcode = *rcode;
    first = 2;
  }
  for (size_t i = first; i < w.size(); ++i) {
    if (w[i] == "--labels" && i + 1 < w.size()) {
      size_t k = 0;
      if (!parse_count(w[++i], k) || k > 127) return "--labels takes a count of labels, 1 to 127";
      out.labels = static_cast<unsigned>(k);
    } else if (!parse_count(w[i], out.n)) {
      return fmt::format("'{}' is not a count (top LIST [N] [--labels K])", w[i]);
    }
  }
  return {};
}

std::string top_json(const Registry& registry, const ActivePolicy& policy, const TopRequest& req, uint64_t now_ns) {
  const bool from_queries = req.kind == TopKind::kQueries || req.kind == TopKind::kClients;
  std::vector<TrafficRecord> records = collect(registry, from_queries ? Ring::kQueries : Ring::kAnswers);
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  key(w, "records");  // how many recent records the list was made from
  w.Uint64(records.size());
  if (req.kind == TopKind::kSlow) {
    std::erase_if(records, [](const TrafficRecord& t) { return t.source != static_cast<uint8_t>(AnswerSource::kBackend); });
    size_t n = std::min(req.n, records.size());
    std::partial_sort(records.begin(), records.begin() + static_cast<ptrdiff_t>(n), records.end(),
                      [](const TrafficRecord& a, const TrafficRecord& b) { return a.latency_us > b.latency_us; });
    key(w, "top");
    w.StartArray();
    for (size_t i = 0; i < n; ++i) record_json(w, registry, policy, records[i], now_ns, true);
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  }
  std::unordered_map<std::string, uint64_t> counts;
  uint64_t total = 0;
  for (const TrafficRecord& t : records) {
    const bool by_client = req.kind == TopKind::kClients || req.kind == TopKind::kServfailClients;
    if (req.kind == TopKind::kServfailNames || req.kind == TopKind::kServfailClients) {
      if (t.rcode != kServFail) continue;
    } else if (req.kind == TopKind::kNxdomainNames && t.rcode != kNxDomain) {
      continue;
    } else if (req.kind == TopKind::kResponses && t.rcode != req.rcode) {
      continue;
    }
    ++total;
    if (req.kind == TopKind::kRcodes) {
      ++counts[rcode_name(t.rcode)];
    } else {
      ++counts[by_client ? client_key(t.client) : name_text(t.qname, t.qname_length, req.labels)];
    }
  }
  top_counts(w, counts, req.n, total);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string grep_json(const Registry& registry, const ActivePolicy& policy, std::string_view args, uint64_t now_ns) {
  std::vector<std::string_view> w = words(args);
  rapidjson::StringBuffer buf;
  Writer out(buf);
  auto error = [&](const std::string& message) {
    out.StartObject();
    key(out, "error");
    text(out, message);
    out.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  };
  if (w.empty() || w.size() > 2) return error("usage: grep PATTERN|NETMASK|rcode=RCODE [N]");
  size_t n = 100;
  if (w.size() == 2 && !parse_count(w[1], n)) return error(fmt::format("'{}' is not a count", w[1]));
  std::string_view what = w[0];
  std::optional<uint8_t> rcode;
  std::optional<NetAddress> net;
  unsigned length = 0;
  if (what.starts_with("rcode=")) {
    rcode = rcode_from_name(what.substr(6));
    if (!rcode) return error(fmt::format("unknown rcode '{}'", what.substr(6)));
  } else if (size_t slash = what.find('/'); slash != std::string_view::npos) {
    net = NetAddress::parse(what.substr(0, slash));
    size_t bits = 0;
    auto [end, ec] = std::from_chars(what.data() + slash + 1, what.data() + what.size(), bits);
    if (!net || ec != std::errc() || end != what.data() + what.size() || bits > net->byte_length() * 8) {
      return error(fmt::format("'{}' is not a netmask like 192.0.2.0/24", what));
    }
    length = static_cast<unsigned>(bits);
  } else if (auto host = NetAddress::parse(what)) {
    net = host;
    length = host->byte_length() * 8;
  }
  // rcode needs answers; names and clients are looked up in answers too, so
  // that each record says what the client got.
  std::vector<TrafficRecord> records = collect(registry, Ring::kAnswers);
  std::sort(records.begin(), records.end(),
            [](const TrafficRecord& a, const TrafficRecord& b) { return a.time_ns > b.time_ns; });
  out.StartObject();
  key(out, "records");
  out.Uint64(records.size());
  key(out, "matches");
  out.StartArray();
  size_t shown = 0;
  for (const TrafficRecord& t : records) {
    if (shown == n) break;
    bool match = rcode ? t.rcode == *rcode
                 : net ? in_netmask(t.client, *net, length)
                       : glob_match(what, name_text(t.qname, t.qname_length));
    if (!match) continue;
    record_json(out, registry, policy, t, now_ns, true);
    ++shown;
  }
  out.EndArray();
  out.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace dnspc::runtime
