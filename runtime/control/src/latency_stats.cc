// `dnspc ctl latency`: the distributions of backend answer latency, overall,
// by the client's transport and per server, with quantiles.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "dnspc/runtime/latency_histogram.h"
#include "dnspc/runtime/stats.h"

namespace dnspc::runtime {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void distribution(Writer& w, const LatencySnapshot& s) {
  w.StartObject();
  w.Key("count");
  w.Uint64(s.count);
  w.Key("sum_us");
  w.Uint64(s.sum_us);
  const std::pair<const char*, double> quantiles[] = {{"p50_us", 0.5}, {"p90_us", 0.9}, {"p99_us", 0.99},
                                                      {"p999_us", 0.999}};
  for (const auto& [name, q] : quantiles) {
    w.Key(name);
    w.Double(s.quantile_us(q));
  }
  // Counts per bucket, in the order of "bounds_us" (the last: slower than 10 s).
  w.Key("buckets");
  w.StartArray();
  for (uint64_t n : s.counts) w.Uint64(n);
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string latency_json(const MetricsContext& c) {
  const Registry& r = *c.registry;
  LatencySnapshot udp, tcp, cache, all;
  for (unsigned i = 0; i < r.worker_count(); ++i) {
    udp.add(r.worker(i).latency_udp);
    tcp.add(r.worker(i).latency_tcp);
    cache.add(r.worker(i).latency_cache);
  }
  for (unsigned b = 0; b < LatencyBuckets::kCount; ++b) all.counts[b] = udp.counts[b] + tcp.counts[b];
  all.count = udp.count + tcp.count;
  all.sum_us = udp.sum_us + tcp.sum_us;

  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("bounds_us");  // inclusive upper bounds; one more bucket follows for the rest
  w.StartArray();
  for (unsigned b = 0; b < LatencyBuckets::kBounds; ++b) w.Uint64(LatencyBuckets::upper_us(b));
  w.EndArray();
  w.Key("overall");
  distribution(w, all);
  w.Key("transport");
  w.StartObject();
  w.Key("udp");
  distribution(w, udp);
  w.Key("tcp");
  distribution(w, tcp);
  w.Key("cache");  // hits: not in `overall`, which is of backend answers
  distribution(w, cache);
  w.EndObject();
  w.Key("servers");
  w.StartObject();
  for (uint32_t id = 0; id < r.server_count(); ++id) {
    const ServerEntry& e = r.server(id);
    if (!e.live) continue;  // removed by a reload
    LatencySnapshot s;
    for (unsigned i = 0; i < r.worker_count(); ++i) s.add(r.worker(i).servers[id].latency);
    w.Key(e.key.data(), static_cast<rapidjson::SizeType>(e.key.size()));
    distribution(w, s);
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace dnspc::runtime
