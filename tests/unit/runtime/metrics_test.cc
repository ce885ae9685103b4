// The metrics table follows Prometheus naming, places every sample at its
// own key of the `stats` document, escapes label values, and renders as an
// aligned text table.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/metrics.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

// A policy whose names need escaping in Prometheus text.
PolicyImage image() {
  PolicyImage im;
  PoolSpec p;
  p.name = "main";
  ServerSpec a;
  a.address = *NetAddress::parse("192.0.2.1:53");
  p.servers = {a};
  p.cache.entries = 64;  // so the cache's metrics have a sample
  im.pools.push_back(p);
  im.rules.push_back({"quiet", ActionKind::kDrop, 0, 0, 0, 0});
  im.rules.push_back({"odd\"rule\\", ActionKind::kPool, 0, modifier_bits::kTag, 1, 0});
  im.tags = {"line\nbreak"};
  im.lua.hooks = {"pick", "odd.hook"};
  return im;
}

bool declared(const MetricDef& m, std::string_view label) {
  for (const char* l : m.labels) {
    if (label == l) return true;
  }
  return false;
}

// Every sample a reader gives, with the labels it gave.
class Recorder : public MetricSink {
 public:
  void integer(const Labels& labels, uint64_t) override { samples.push_back(labels); }
  void real(const Labels& labels, double) override { samples.push_back(labels); }
  void histogram(const Labels& labels, const LatencySnapshot&) override { samples.push_back(labels); }
  std::vector<Labels> samples;
};

}  // namespace

TEST_CASE("every metric is named once, counters end in _total, units end the name", "[runtime][metrics]") {
  std::set<std::string> names;
  for (const auto& m : metric_table()) {
    std::string name = m.name;
    INFO(name);
    CHECK(names.insert(name).second);
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
    const bool total = name.size() > 6 && name.ends_with("_total");
    CHECK(total == (m.type == MetricType::kCounter));
    if (m.type == MetricType::kHistogram) CHECK(name.ends_with("_seconds"));
    const std::string unit = m.unit;
    const std::string base = total ? name.substr(0, name.size() - 6) : name;
    if (!unit.empty()) CHECK(base.ends_with("_" + unit));
    if (m.prometheus) CHECK((unit.empty() || unit == "seconds" || unit == "bytes"));  // base units only
    CHECK(std::string(m.help).size() > 10);
    CHECK(m.read);
    for (const char* l : m.labels) {
      INFO(l);
      bool known = false;
      for (const char* k : kMetricLabels) known = known || std::string_view(k) == l;
      CHECK(known);
      if (std::string_view(l) == "version") CHECK(name == "build_info");
    }
  }
  CHECK(names.count("build_info") == 1);
}

TEST_CASE("a path template names only its labels, histograms stay out of the document", "[runtime][metrics]") {
  for (const auto& m : metric_table()) {
    INFO(m.name);
    if (m.type == MetricType::kHistogram) CHECK(m.json == nullptr);
    if (!m.json) continue;
    const std::string_view t = m.json;
    for (size_t open = t.find('{'); open != std::string_view::npos; open = t.find('{', open + 1)) {
      const size_t close = t.find('}', open);
      REQUIRE(close != std::string_view::npos);
      CHECK(declared(m, t.substr(open + 1, close - open - 1)));
    }
  }
}

TEST_CASE("path templates take label values into keys, dots and all", "[runtime][metrics]") {
  using Keys = std::vector<std::string>;
  CHECK(metric_json_path("forwarded", {}) == Keys{"forwarded"});
  CHECK(metric_json_path("acl.{result}", {{"result", "refused"}}) == Keys{"acl", "refused"});
  CHECK(metric_json_path("servers.{server}.queries", {{"pool", "main"}, {"server", "main/192.0.2.1:53"}}) ==
        Keys{"servers", "main/192.0.2.1:53", "queries"});
  CHECK(metric_json_path("tcp.backend.backend_{reason}", {{"reason", "unknown_id"}}) ==
        Keys{"tcp", "backend", "backend_unknown_id"});
  CHECK(metric_json_path("servers.{server}.{reason}", {{"server", "a.b"}, {"reason", "malformed"}}) ==
        Keys{"servers", "a.b", "malformed"});
}

TEST_CASE("every sample declares its labels and has a key of its own in the document", "[runtime][metrics]") {
  auto im = std::make_shared<const PolicyImage>(image());
  Registry reg(*im, 2);
  auto active = bind_policy(im, reg);
  const MetricsContext c{&reg, active.get(), 1, {}, {}};
  std::set<std::vector<std::string>> leaves;
  for (const auto& m : metric_table()) {
    INFO(m.name);
    Recorder r;
    m.read(c, r);
    CHECK(!r.samples.empty());
    for (const Labels& labels : r.samples) {
      for (const auto& [name, value] : labels) {
        INFO(name);
        CHECK(declared(m, name));
      }
      if (m.json) CHECK(leaves.insert(metric_json_path(m.json, labels)).second);
    }
  }
  // No key is both a number and an object.
  for (const auto& leaf : leaves) {
    for (size_t n = 1; n < leaf.size(); ++n) CHECK(leaves.count(std::vector<std::string>(leaf.begin(), leaf.begin() + n)) == 0);
  }
}

TEST_CASE("label values are escaped as the exposition format wants", "[runtime][metrics]") {
  CHECK(escape_label_value("plain") == "plain");
  CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");

  const PolicyImage im = image();
  Registry reg(im, 1);
  const MetricsContext c{&reg, nullptr, 1, {}, {}};
  reg.worker(0).rule_hits[1].add(4);
  reg.worker(0).tag_hits[0].add();
  const std::string text = prometheus_text(c);
  CHECK(text.find("dnspc_rule_hits_total{rule=\"odd\\\"rule\\\\\",path=\"user\"} 4\n") != std::string::npos);
  CHECK(text.find("dnspc_tag_hits_total{tag=\"line\\nbreak\"} 1\n") != std::string::npos);
  CHECK(text.find("rule=\"quiet\"") == std::string::npos);  // no hits: left out (sparse)
  CHECK(text.find("dnspc_backend_queries_total{pool=\"main\",server=\"main/192.0.2.1:53\"} 0\n") != std::string::npos);
  for (const auto& m : metric_table()) {
    INFO(m.name);
    const char* type = m.type == MetricType::kCounter ? "counter" : m.type == MetricType::kGauge ? "gauge" : "histogram";
    const bool typed = text.find("# TYPE dnspc_" + std::string(m.name) + " " + type + "\n") != std::string::npos;
    CHECK(typed == m.prometheus);
  }
}

TEST_CASE("the text table aligns name, labels and value", "[runtime][metrics]") {
  const PolicyImage im = image();
  Registry reg(im, 2);
  const MetricsContext c{&reg, nullptr, 3.5, {}, {}};
  reg.worker(0).forwarded.add(7);
  reg.worker(1).forwarded.add(5);
  reg.worker(1).servers[0].latency.record(150);
  const std::string table = metrics_text_table(c);

  std::istringstream in(table);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() > 10);
  CHECK(lines[0].starts_with("METRIC"));
  const size_t labels_at = lines[0].find("LABELS");
  REQUIRE(labels_at != std::string::npos);
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(line.size() == lines[0].size());  // values are right-aligned to one column
    CHECK(line[labels_at - 1] == ' ');
  }
  auto row = [&](std::string_view name) -> std::string {
    for (const std::string& line : lines) {
      if (line.starts_with(std::string(name) + " ")) return line;
    }
    return "";
  };
  CHECK(row("forwarded_total").ends_with(" 12"));
  CHECK(row("uptime_seconds").ends_with(" 3.500"));
  CHECK(row("backend_queries_total").find("pool=\"main\",server=\"main/192.0.2.1:53\"") == labels_at);
  CHECK(row("backend_latency_seconds").find("count 1 ") != std::string::npos);
  CHECK(row("backend_latency_average_microseconds").ends_with(" 0"));  // document-only metrics show here too
  CHECK(row("rule_hits_total").empty());  // no hits: sparse
}
