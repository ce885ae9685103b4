#include "dnspc/runtime/series.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include "dnspc/dns_names.h"
#include "dnspc/verdict.h"

namespace dnspc::runtime {

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

LatencySnapshot minus(const LatencySnapshot& now, const LatencySnapshot& before) {
  LatencySnapshot d;
  for (unsigned i = 0; i < LatencyBuckets::kCount; ++i) {
    d.counts[i] = now.counts[i] - before.counts[i];
    d.count += d.counts[i];
  }
  d.sum_us = now.sum_us - before.sum_us;
  return d;
}

}  // namespace

SeriesSampler::SeriesSampler(uv_loop_t* loop, const Registry& registry) : loop_(loop), registry_(registry) {}

void SeriesSampler::start() {
  last_ = read();
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  uv_timer_start(&timer_, [](uv_timer_t* t) { static_cast<SeriesSampler*>(t->data)->tick(); }, 1000, 1000);
  started_ = true;
}

void SeriesSampler::stop() {
  if (!started_) return;
  started_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

SeriesSampler::Totals SeriesSampler::read() const {
  Totals t;
  t.servers.resize(registry_.server_count());
  for (unsigned w = 0; w < registry_.worker_count(); ++w) {
    const WorkerCounters& c = registry_.worker(w);
    for (unsigned a = 0; a < kActionKindCount; ++a) t.decided += c.actions[a].get();
    t.backend += c.answers_by_source[static_cast<unsigned>(AnswerSource::kBackend)].get();
    t.local += c.answers_by_source[static_cast<unsigned>(AnswerSource::kLocal)].get();
    t.timeout += c.answers_by_source[static_cast<unsigned>(AnswerSource::kTimeout)].get();
    t.dropped += c.actions[static_cast<unsigned>(ActionKind::kDrop)].get() + c.no_server_dropped.get();
    for (unsigned r = 0; r < 16; ++r) t.rcodes[r] += c.answer_rcodes[r].get();
    for (uint32_t id = 0; id < t.servers.size(); ++id) {
      const ServerCounters& s = c.servers[id];
      t.servers[id].queries += s.queries.get();
      t.servers[id].answers += s.answers.get();
      t.servers[id].latency.add(s.latency);
    }
  }
  return t;
}

void SeriesSampler::tick() {
  Totals now = read();
  Sample s;
  s.time = unix_now();
  s.decided = now.decided - last_.decided;
  s.backend = now.backend - last_.backend;
  s.local = now.local - last_.local;
  s.timeout = now.timeout - last_.timeout;
  s.dropped = now.dropped - last_.dropped;
  for (unsigned r = 0; r < 16; ++r) s.rcodes[r] = now.rcodes[r] - last_.rcodes[r];
  for (uint32_t id = 0; id < now.servers.size(); ++id) {
    if (!registry_.server(id).live) continue;
    const bool seen = id < last_.servers.size();
    Sample::Server v;
    v.id = id;
    v.queries = now.servers[id].queries - (seen ? last_.servers[id].queries : 0);
    v.answers = now.servers[id].answers - (seen ? last_.servers[id].answers : 0);
    LatencySnapshot second = seen ? minus(now.servers[id].latency, last_.servers[id].latency) : now.servers[id].latency;
    v.p50_us = second.quantile_us(0.5);
    v.p99_us = second.quantile_us(0.99);
    s.servers.push_back(v);
  }
  last_ = std::move(now);
  samples_.push_back(std::move(s));
  if (samples_.size() > kSeconds) samples_.pop_front();
}

std::string SeriesSampler::json(size_t seconds) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("interval_s");
  w.Uint(1);
  w.Key("samples");
  w.StartArray();
  size_t first = samples_.size() > seconds ? samples_.size() - seconds : 0;
  for (size_t i = first; i < samples_.size(); ++i) {
    const Sample& s = samples_[i];
    w.StartObject();
    w.Key("time");
    w.Double(s.time);
    w.Key("queries");
    w.Uint64(s.decided);
    w.Key("answers");
    w.StartObject();
    w.Key("backend");
    w.Uint64(s.backend);
    w.Key("local");
    w.Uint64(s.local);
    w.Key("timeout_servfail");
    w.Uint64(s.timeout);
    w.EndObject();
    w.Key("dropped");
    w.Uint64(s.dropped);
    w.Key("rcodes");
    w.StartObject();
    for (unsigned r = 0; r < 16; ++r) {
      if (s.rcodes[r] == 0) continue;
      std::string name = rcode_name(static_cast<uint8_t>(r));
      w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      w.Uint64(s.rcodes[r]);
    }
    w.EndObject();
    w.Key("servers");
    w.StartObject();
    for (const Sample::Server& v : s.servers) {
      const std::string& key = registry_.server(v.id).key;
      w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      w.StartObject();
      w.Key("queries");
      w.Uint64(v.queries);
      w.Key("answers");
      w.Uint64(v.answers);
      w.Key("p50_us");
      w.Double(v.p50_us);
      w.Key("p99_us");
      w.Double(v.p99_us);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace dnspc::runtime
