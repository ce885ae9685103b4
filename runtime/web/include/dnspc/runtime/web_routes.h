// The web server's routes (docs/web.md, "Routes"): a request's method and
// target to what answers it: one of the page's files, or a control command
// line built from checked values. Query parameters are decoded and checked
// here (integers in range, text without spaces or control characters), so
// nothing a client typed reaches a command line raw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnspc/runtime/web_assets.h"

namespace dnspc::runtime {

// Percent-decoding; with `plus_is_space` a '+' is a space, as in query
// strings. Null on a malformed escape or a decoded NUL.
std::optional<std::string> url_decode(std::string_view s, bool plus_is_space);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "a=1&b=x%20y" -> {a: 1, b: "x y"}, in order; false with `error` on a bad
// escape.
bool parse_query_string(std::string_view query, QueryParams& out, std::string& error);

// A request target split into its path and query ("/a?b=1" -> "/a", "b=1"):
// origin form, or absolute form ("http://host/a?b=1") with the scheme and
// host dropped. False when it is neither ("*", "example.com:80").
bool split_target(std::string_view target, std::string_view& path, std::string_view& query);

// kDashboard: several read-only documents in one answer, one command each
// (`parts`), so the page makes one request a second.
enum class RouteKind : uint8_t { kAsset, kMetrics, kJson, kDashboard };

// One document of a dashboard answer: its key there (the API path it stands
// for under /api/v1/: "servers", "top/queries") and its command line.
struct DashboardPart {
  std::string key;
  std::string command;
};

struct RouteResult {
  int status = 200;   // 200: a route matched; else 400, 404 or 405
  std::string error;  // why not (a 400 names the parameter)
  std::string allow;  // 405: the methods the path takes ("GET, HEAD")
  RouteKind kind = RouteKind::kJson;
  bool api = false;                 // under /api/ or /metrics: JSON errors, X-API-Key taken
  bool write = false;               // changes state: needs web_writes and the API key
  std::string command;              // the control command line (kMetrics, kJson)
  const WebAsset* asset = nullptr;  // kAsset
  std::vector<DashboardPart> parts;  // kDashboard, in the order asked
};

RouteResult route_request(std::string_view method, std::string_view target, std::string_view body);

// Limits of the values routes take (docs/web.md).
inline constexpr size_t kMaxFilterLength = 200;
inline constexpr size_t kMaxServerNameLength = 200;
inline constexpr uint64_t kMaxRulesLimit = 1000;
inline constexpr size_t kMaxDashboardParts = 24;

}  // namespace dnspc::runtime
