#include "dnspc/runtime/metrics_json.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace dnspc::runtime {

// An object (members in insertion order, indexed by key: a policy may have
// thousands of rules) or a number.
struct MetricsDocument::Node {
  enum class Kind { kObject, kInteger, kReal };
  Kind kind = Kind::kObject;
  uint64_t integer = 0;
  double real = 0;
  std::string key;
  std::vector<std::unique_ptr<Node>> members;
  std::unordered_map<std::string_view, Node*> index;  // views of the members' keys (nodes never move)

  Node& member(std::string_view k) {
    if (auto it = index.find(k); it != index.end()) return *it->second;
    auto n = std::make_unique<Node>();
    n->key = k;
    Node* p = n.get();
    members.push_back(std::move(n));
    index.emplace(p->key, p);
    return *p;
  }

  const Node* find(std::string_view k) const {
    auto it = index.find(k);
    return it == index.end() ? nullptr : it->second;
  }

  void write(JsonWriter& w) const {
    switch (kind) {
      case Kind::kInteger: w.Uint64(integer); return;
      case Kind::kReal: w.Double(real); return;
      case Kind::kObject:
        w.StartObject();
        write_members(w);
        w.EndObject();
        return;
    }
  }

  void write_members(JsonWriter& w) const {
    for (const auto& m : members) {
      w.Key(m->key.data(), static_cast<rapidjson::SizeType>(m->key.size()));
      m->write(w);
    }
  }
};

namespace {

using Node = MetricsDocument::Node;

class JsonSink : public MetricSink {
 public:
  JsonSink(Node& root, std::string_view tmpl) : root_(root), tmpl_(tmpl) {}

  void integer(const Labels& labels, uint64_t v) override {
    Node& n = leaf(labels);
    n.kind = Node::Kind::kInteger;
    n.integer = v;
  }

  void real(const Labels& labels, double v) override {
    Node& n = leaf(labels);
    n.kind = Node::Kind::kReal;
    n.real = v;
  }

  // A distribution has no place in the document (`ctl latency` has them).
  void histogram(const Labels&, const LatencySnapshot&) override {}

 private:
  Node& leaf(const Labels& labels) {
    Node* n = &root_;
    for (const std::string& k : metric_json_path(tmpl_, labels)) n = &n->member(k);
    return *n;
  }

  Node& root_;
  std::string_view tmpl_;
};

// `segment` with each {label} replaced by its value (nothing for a label
// the sample lacks; the unit tests hold every template to its labels).
std::string fill(std::string_view segment, const Labels& labels) {
  std::string out;
  size_t i = 0;
  while (i < segment.size()) {
    const size_t open = segment.find('{', i);
    const size_t close = open == std::string_view::npos ? open : segment.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(segment.substr(i, open - i));
    const std::string_view name = segment.substr(open + 1, close - open - 1);
    for (const auto& [k, v] : labels) {
      if (name == k) {
        out += v;
        break;
      }
    }
    i = close + 1;
  }
  if (i < segment.size()) out.append(segment.substr(i));
  return out;
}

}  // namespace

std::vector<std::string> metric_json_path(std::string_view tmpl, const Labels& labels) {
  std::vector<std::string> keys;
  size_t start = 0;
  while (true) {
    const size_t dot = tmpl.find('.', start);
    keys.push_back(fill(tmpl.substr(start, dot == std::string_view::npos ? dot : dot - start), labels));
    if (dot == std::string_view::npos) return keys;
    start = dot + 1;
  }
}

MetricsDocument::MetricsDocument(const MetricsContext& c, std::string_view prefix) : root_(std::make_unique<Node>()) {
  for (const MetricDef& m : metric_table()) {
    if (!m.json || !std::string_view(m.json).starts_with(prefix)) continue;
    // The objects above the first labelled key exist even with no sample
    // ("rules": {} for a policy without rules), as they always have.
    const std::string_view t = m.json;
    Node* n = root_.get();
    for (size_t start = 0, dot = t.find('.'); dot != std::string_view::npos; start = dot + 1, dot = t.find('.', start)) {
      const std::string_view key = t.substr(start, dot - start);
      if (key.find('{') != std::string_view::npos) break;
      n = &n->member(key);
    }
    JsonSink sink(*root_, m.json);
    m.read(c, sink);
  }
}

MetricsDocument::~MetricsDocument() = default;

bool MetricsDocument::write_members(JsonWriter& w, std::initializer_list<std::string_view> keys) const {
  const Node* n = root_.get();
  for (std::string_view k : keys) {
    n = n->find(k);
    if (!n) return false;
  }
  if (n->kind != Node::Kind::kObject) return false;
  n->write_members(w);
  return true;
}

}  // namespace dnspc::runtime
