// The route table: each route's command line, its parameters checked and
// decoded (never passed raw), 404 and 405 (with Allow), and the URL helpers.
#include <catch2/catch.hpp>

#include "dnspc/runtime/web_routes.h"

using namespace dnspc::runtime;

namespace {

std::string command(std::string_view method, std::string_view target, std::string_view body = "") {
  RouteResult r = route_request(method, target, body);
  INFO(target << ": " << r.error);
  REQUIRE(r.status == 200);
  return r.command;
}

RouteResult refused(std::string_view method, std::string_view target, int status,
                    std::string_view body = "") {
  RouteResult r = route_request(method, target, body);
  INFO(target);
  CHECK(r.status == status);
  return r;
}

}  // namespace

TEST_CASE("routes: each read route runs its command", "[web]") {
  CHECK(command("GET", "/api/v1/stats") == "stats");
  CHECK(command("GET", "/api/v1/servers") == "servers");
  CHECK(command("GET", "/api/v1/pools") == "pools");
  CHECK(command("GET", "/api/v1/dynblocks") == "blocks");
  CHECK(command("GET", "/api/v1/latency") == "latency");
  CHECK(command("GET", "/api/v1/policy") == "policy");
  CHECK(command("GET", "/api/v1/overrides") == "overrides");
  CHECK(command("GET", "/api/v1/hooks") == "hooks");
  CHECK(command("HEAD", "/api/v1/stats") == "stats");
  CHECK(command("GET", "/metrics") == "metrics");
  CHECK(command("GET", "/metrics?all_rules=1") == "metrics --all-rules");
  CHECK(command("GET", "/metrics?all_rules=0") == "metrics");
  RouteResult m = route_request("GET", "/metrics", "");
  CHECK(m.kind == RouteKind::kMetrics);
  CHECK(m.api);
  CHECK_FALSE(m.write);
}

TEST_CASE("routes: rules takes offset, limit and filter, checked", "[web]") {
  CHECK(command("GET", "/api/v1/rules") == "rules 0 100");
  CHECK(command("GET", "/api/v1/rules?offset=20&limit=1000") == "rules 20 1000");
  CHECK(command("GET", "/api/v1/rules?filter=abc%2A.x&limit=5") == "rules 0 5 abc*.x");
  CHECK(command("GET", "/api/v1/rules?filter=") == "rules 0 100");
  CHECK(refused("GET", "/api/v1/rules?limit=1001", 400).error ==
        "parameter 'limit' must be an integer from 1 to 1000");
  refused("GET", "/api/v1/rules?limit=0", 400);
  refused("GET", "/api/v1/rules?limit=-1", 400);
  refused("GET", "/api/v1/rules?limit=1e3", 400);
  refused("GET", "/api/v1/rules?limit=", 400);
  refused("GET", "/api/v1/rules?offset=99999999999999999999", 400);
  CHECK(refused("GET", "/api/v1/rules?filter=a%20b", 400).error.find("'filter'") !=
        std::string::npos);
  refused("GET", "/api/v1/rules?filter=a+b", 400);  // '+' is a space in a query
  refused("GET", "/api/v1/rules?filter=a%0Astats", 400);
  refused("GET", "/api/v1/rules?filter=a%09b", 400);
  refused("GET", "/api/v1/rules?filter=" + std::string(201, 'x'), 400);
  CHECK(command("GET", "/api/v1/rules?filter=" + std::string(200, 'x')).size() == 12 + 200);
  refused("GET", "/api/v1/rules?filter=%zz", 400);
  refused("GET", "/api/v1/rules?filter=%00", 400);
  CHECK(refused("GET", "/api/v1/rules?limit=1&limit=2", 400).error ==
        "parameter 'limit' is given twice");
  CHECK(refused("GET", "/api/v1/rules?bogus=1", 400).error ==
        "unknown parameter 'bogus'; this route takes offset limit filter");
  CHECK(refused("GET", "/api/v1/stats?x=1", 400).error ==
        "unknown parameter 'x'; this route takes none");
}

TEST_CASE("routes: top takes a list kind in the path, n and labels", "[web]") {
  CHECK(command("GET", "/api/v1/top/queries") == "top queries 10");
  CHECK(command("GET", "/api/v1/top/servfail-clients?n=3&labels=2") ==
        "top servfail-clients 3 --labels 2");
  for (const char* kind : {"clients", "servfail-names", "nxdomain-names", "slow"}) {
    CHECK(command("GET", std::string("/api/v1/top/") + kind + "?n=1000") ==
          std::string("top ") + kind + " 1000");
  }
  CHECK(refused("GET", "/api/v1/top/everything", 404).error.find("no top list 'everything'") == 0);
  refused("GET", "/api/v1/top/queries?n=1001", 400);
  refused("GET", "/api/v1/top/queries?labels=128", 400);
  refused("GET", "/api/v1/top/", 404);
  refused("GET", "/api/v1/top/queries/more", 404);
}

TEST_CASE("routes: series takes seconds up to 600", "[web]") {
  CHECK(command("GET", "/api/v1/series") == "series 600");
  CHECK(command("GET", "/api/v1/series?seconds=60") == "series 60");
  refused("GET", "/api/v1/series?seconds=601", 400);
  refused("GET", "/api/v1/series?seconds=0", 400);
}

TEST_CASE("routes: writes are POSTs with checked names and bodies", "[web]") {
  RouteResult r = route_request("POST", "/api/v1/servers/main%2F127.0.0.1:53/state", "down\n");
  REQUIRE(r.status == 200);
  CHECK(r.write);
  CHECK(r.command == "server main/127.0.0.1:53 down");
  // The name's '/' may also come unescaped.
  CHECK(command("POST", "/api/v1/servers/main/127.0.0.1:53/state", "up") ==
        "server main/127.0.0.1:53 up");
  CHECK(command("POST", "/api/v1/servers/v6/%5B::1%5D:53/state", " auto ") ==
        "server v6/[::1]:53 auto");
  CHECK(refused("POST", "/api/v1/servers/main/1.2.3.4:53/state", 400, "sideways").error ==
        "the body must be up, down or auto");
  refused("POST", "/api/v1/servers/a%20b/state", 400, "up");
  refused("POST", "/api/v1/servers/a%0Areload/state", 400, "up");
  refused("POST", "/api/v1/servers//state", 404, "up");
  CHECK(command("POST", "/api/v1/dynblocks/clear") == "clear-blocks");
  CHECK(command("POST", "/api/v1/cache/purge", "suffix example.com\n") == "cache-purge suffix example.com");
  CHECK(command("POST", "/api/v1/cache/purge", "name www.example.com AAAA") == "cache-purge name www.example.com AAAA");
  CHECK(command("POST", "/api/v1/cache/purge", "all") == "cache-purge all");
  CHECK(route_request("POST", "/api/v1/cache/purge", "all").write);
  refused("POST", "/api/v1/cache/purge", 400, "");
  refused("POST", "/api/v1/cache/purge", 400, "all\nreload");
  refused("POST", "/api/v1/cache/purge", 400, "name a;b");
  CHECK(command("GET", "/api/v1/cache") == "cache");
  CHECK_FALSE(route_request("GET", "/api/v1/cache", "").write);
  CHECK(command("POST", "/api/v1/reload", "/etc/passwd") == "reload");  // never a path from the web
  CHECK(route_request("POST", "/api/v1/reload", "").write);
}

TEST_CASE("routes: a known path with the wrong method is 405 with Allow", "[web]") {
  RouteResult r = refused("GET", "/api/v1/reload", 405);
  CHECK(r.allow == "POST");
  CHECK(refused("POST", "/api/v1/stats", 405).allow == "GET, HEAD");
  CHECK(refused("DELETE", "/metrics", 405).allow == "GET, HEAD");
  CHECK(refused("GET", "/api/v1/servers/main/1.2.3.4:53/state", 405).allow == "POST");
  CHECK(refused("POST", "/", 405).allow == "GET, HEAD");
  CHECK(refused("OPTIONS", "/api/v1/stats", 405).allow == "GET, HEAD");
}

TEST_CASE("routes: unknown paths are 404, the page's files are assets", "[web]") {
  CHECK_FALSE(refused("GET", "/nope", 404).api);
  CHECK(refused("GET", "/api/v1/nope", 404).api);
  refused("GET", "/api/v1/stats/", 404);
  refused("GET", "/API/v1/stats", 404);
  refused("GET", "/api/v1/st%61ts", 404);
  refused("GET", "*", 400);
  for (const WebAsset& a : web_assets()) {
    RouteResult r = route_request("GET", a.path, "");
    REQUIRE(r.status == 200);
    CHECK(r.kind == RouteKind::kAsset);
    CHECK(r.asset == &a);
    CHECK_FALSE(r.api);
  }
  CHECK(route_request("GET", "/?v=2", "").kind == RouteKind::kAsset);
  CHECK(route_request("GET", "http://example.com/api/v1/stats", "").command == "stats");
}

TEST_CASE("routes: url_decode, parse_query_string and split_target", "[web]") {
  CHECK(url_decode("a%2Fb+c", false) == "a/b+c");
  CHECK(url_decode("a%2fb+c", true) == "a/b c");
  CHECK_FALSE(url_decode("%", false));
  CHECK_FALSE(url_decode("%4", false));
  CHECK_FALSE(url_decode("%G0", false));
  CHECK_FALSE(url_decode("a%00", false));
  QueryParams p;
  std::string error;
  REQUIRE(parse_query_string("a=1&&b=x%20y&c", p, error));
  REQUIRE(p.size() == 3);
  CHECK(p[1] == std::pair<std::string, std::string>("b", "x y"));
  CHECK(p[2] == std::pair<std::string, std::string>("c", ""));
  CHECK_FALSE(parse_query_string("a=%", p, error));
  std::string_view path, query;
  REQUIRE(split_target("/a/b?c=1#frag", path, query));
  CHECK(path == "/a/b");
  CHECK(query == "c=1");
  REQUIRE(split_target("https://h:1/x", path, query));
  CHECK(path == "/x");
  CHECK_FALSE(split_target("example.com:443", path, query));
  CHECK_FALSE(split_target("", path, query));
}

TEST_CASE("routes: dashboard gathers read routes, each with its command", "[web]") {
  auto parts = [](std::string_view target) {
    RouteResult r = route_request("GET", target, "");
    INFO(target << ": " << r.error);
    REQUIRE(r.status == 200);
    REQUIRE(r.kind == RouteKind::kDashboard);
    std::vector<std::string> out;
    for (const DashboardPart& p : r.parts) out.push_back(p.key + " = " + p.command);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(parts("/api/v1/dashboard") == V{"series = series 600"});
  CHECK(parts("/api/v1/dashboard?include=series,servers,dynblocks&seconds=3") ==
        V{"series = series 3", "servers = servers", "dynblocks = blocks"});
  // Labels apply to the name lists only; n to every list.
  CHECK(parts("/api/v1/dashboard?include=top/queries,top/clients&n=5&labels=2") ==
        V{"top/queries = top queries 5 --labels 2", "top/clients = top clients 5"});
  CHECK(parts("/api/v1/dashboard?include=rules,rules,,policy&offset=25&limit=25&filter=ab") ==
        V{"rules = rules 25 25 ab", "policy = policy"});
  CHECK(refused("GET", "/api/v1/dashboard?include=reload", 400).error.find("no dashboard part 'reload'") == 0);
  CHECK(refused("GET", "/api/v1/dashboard?include=metrics", 400).error.find("no dashboard part") == 0);
  CHECK(refused("GET", "/api/v1/dashboard?include=top/everything", 400).error.find("no dashboard part") == 0);
  refused("GET", "/api/v1/dashboard?include=", 400);
  refused("GET", "/api/v1/dashboard?include=rules&filter=a%20b", 400);
  refused("GET", "/api/v1/dashboard?include=series&seconds=601", 400);
  refused("GET", "/api/v1/dashboard?include=top/queries&labels=200", 400);
  refused("POST", "/api/v1/dashboard", 405);
  std::string many = "/api/v1/dashboard?include=series";
  for (int i = 0; i < 30; ++i) many += ",top/x" + std::to_string(i);
  refused("GET", many, 400);
}
