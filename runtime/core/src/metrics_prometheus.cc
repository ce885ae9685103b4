// The metrics table as Prometheus text exposition (format 0.0.4): `dnspc ctl
// metrics`.
#include <fmt/format.h>

#include <cmath>

#include "dnspc/runtime/metrics.h"

namespace dnspc::runtime {

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

class PrometheusSink : public MetricSink {
 public:
  PrometheusSink(std::string& out, const std::string& name, bool sparse) : out_(out), name_(name), sparse_(sparse) {}

  void integer(const Labels& labels, uint64_t v) override {
    if (sparse_ && v == 0) return;
    line(name_, labels, nullptr, fmt::format("{}", v));
  }

  void real(const Labels& labels, double v) override {
    if (sparse_ && v == 0) return;
    line(name_, labels, nullptr, number(v));
  }

  void histogram(const Labels& labels, const LatencySnapshot& s) override {
    uint64_t cumulative = 0;
    for (unsigned b = 0; b < LatencyBuckets::kBounds; ++b) {
      cumulative += s.counts[b];
      line(name_ + "_bucket", labels, number(static_cast<double>(LatencyBuckets::upper_us(b)) / 1e6).c_str(),
           fmt::format("{}", cumulative));
    }
    line(name_ + "_bucket", labels, "+Inf", fmt::format("{}", s.count));
    line(name_ + "_sum", labels, nullptr, number(static_cast<double>(s.sum_us) / 1e6));
    line(name_ + "_count", labels, nullptr, fmt::format("{}", s.count));
  }

 private:
  void line(const std::string& name, const Labels& labels, const char* le, const std::string& v) {
    out_ += name;
    if (!labels.empty() || le) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, val] : labels) {
        out_ += fmt::format("{}{}=\"{}\"", first ? "" : ",", k, escape_label_value(val));
        first = false;
      }
      if (le) out_ += fmt::format("{}le=\"{}\"", first ? "" : ",", le);
      out_ += '}';
    }
    out_ += ' ';
    out_ += v;
    out_ += '\n';
  }

  std::string& out_;
  const std::string& name_;
  bool sparse_;
};

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string prometheus_text(const MetricsContext& c, bool all) {
  std::string out;
  for (const MetricDef& m : metric_table()) {
    if (!m.prometheus) continue;
    std::string name = std::string("dnspc_") + m.name;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, m.help, name, type_name(m.type));
    PrometheusSink sink(out, name, m.sparse && !all);
    m.read(c, sink);
  }
  return out;
}

}  // namespace dnspc::runtime
