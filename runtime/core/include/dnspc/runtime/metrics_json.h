// The metrics table's samples placed by their JSON paths (MetricDef::json):
// the numbers of the `stats` document, and the per-server figures of
// `servers`. An object's keys keep the order they first appeared in, which
// is the table's order.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>
#include <memory>
#include <string_view>

#include "dnspc/runtime/metrics.h"

namespace dnspc::runtime {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

class MetricsDocument {
 public:
  // Reads every metric whose path template starts with `prefix` ("": all).
  explicit MetricsDocument(const MetricsContext& c, std::string_view prefix = {});
  ~MetricsDocument();
  MetricsDocument(const MetricsDocument&) = delete;
  MetricsDocument& operator=(const MetricsDocument&) = delete;

  // Writes the members of the object at `keys` ({}: the top) into the object
  // `w` is writing; false, writing nothing, when there is no such object.
  bool write_members(JsonWriter& w, std::initializer_list<std::string_view> keys = {}) const;

  struct Node;

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace dnspc::runtime
