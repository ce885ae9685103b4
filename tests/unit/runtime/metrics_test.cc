// The metrics table follows Prometheus naming; label values are escaped.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "dnspc/runtime/metrics.h"

using dnspc::runtime::metric_table;
using dnspc::runtime::MetricType;

TEST_CASE("every metric is named once, counters end in _total, histograms in a unit", "[runtime][metrics]") {
  std::set<std::string> names;
  for (const auto& m : metric_table()) {
    std::string name = m.name;
    INFO(name);
    CHECK(names.insert(name).second);
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
    const bool total = name.size() > 6 && name.ends_with("_total");
    CHECK(total == (m.type == MetricType::kCounter));
    if (m.type == MetricType::kHistogram) CHECK(name.ends_with("_seconds"));
    CHECK(std::string(m.help).size() > 10);
  }
  CHECK(names.count("build_info") == 1);
}

TEST_CASE("label values are escaped as the exposition format wants", "[runtime][metrics]") {
  CHECK(dnspc::runtime::escape_label_value("plain") == "plain");
  CHECK(dnspc::runtime::escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}
