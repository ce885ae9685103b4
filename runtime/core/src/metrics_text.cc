// The metrics table as aligned text, one sample a row (name, labels, value):
// what the console prints. Histograms show their count and two quantiles.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "dnspc/runtime/metrics.h"

namespace dnspc::runtime {

namespace {

using Row = std::array<std::string, 3>;

class TextSink : public MetricSink {
 public:
  TextSink(std::vector<Row>& rows, const MetricDef& m) : rows_(rows), m_(m) {}

  void integer(const Labels& labels, uint64_t v) override {
    if (m_.sparse && v == 0) return;
    rows_.push_back({m_.name, label_text(labels), fmt::format("{}", v)});
  }

  void real(const Labels& labels, double v) override {
    if (m_.sparse && v == 0) return;
    rows_.push_back({m_.name, label_text(labels), fmt::format("{:.3f}", v)});
  }

  void histogram(const Labels& labels, const LatencySnapshot& s) override {
    rows_.push_back({m_.name, label_text(labels),
                     fmt::format("count {} p50 {:.0f}us p99 {:.0f}us", s.count, s.quantile_us(0.5), s.quantile_us(0.99))});
  }

 private:
  static std::string label_text(const Labels& labels) {
    std::string out;
    for (const auto& [k, v] : labels) out += fmt::format("{}{}=\"{}\"", out.empty() ? "" : ",", k, escape_label_value(v));
    return out;
  }

  std::vector<Row>& rows_;
  const MetricDef& m_;
};

}  // namespace

std::string metrics_text_table(const MetricsContext& c) {
  std::vector<Row> rows{{"METRIC", "LABELS", "VALUE"}};
  for (const MetricDef& m : metric_table()) {
    TextSink sink(rows, m);
    m.read(c, sink);
  }
  std::array<size_t, 3> width{};
  for (const Row& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const Row& r : rows) {
    out += fmt::format("{:<{}}  {:<{}}  {:>{}}\n", r[0], width[0], r[1], width[1], r[2], width[2]);
  }
  return out;
}

}  // namespace dnspc::runtime
