#include <catch2/catch.hpp>

#include <algorithm>

#include <rapidjson/document.h>

#include <cstdio>
#include <ctime>

#include "dnspc/runtime/log.h"

using namespace dnspc::runtime;

TEST_CASE("logs: JSON lines parse, text lines quote what needs it", "[runtime]") {
  set_log_format(LogFormat::kJson);
  std::string line = format_log_line(LogLevel::kWarning, "server \"x\" down\n",
                                     {{"server", "p/127.0.0.1:53"}, {"failures", uint64_t{3}}, {"why", "a\x01" "b"}});
  rapidjson::Document d;
  REQUIRE_FALSE(d.Parse(line.c_str()).HasParseError());
  CHECK(std::string(d["level"].GetString()) == "warning");
  CHECK(std::string(d["msg"].GetString()) == "server \"x\" down\n");
  CHECK(d["failures"].GetUint64() == 3);
  CHECK(std::string(d["why"].GetString()) == "a\x01" "b");
  CHECK(line.back() == '\n');

  set_log_format(LogFormat::kText);
  line = format_log_line(LogLevel::kInfo, "running", {{"workers", 2u}, {"what", "two words"}});
  CHECK(line.find(" info: running workers=2 what=\"two words\"\n") != std::string::npos);
}

TEST_CASE("logs: a text line cannot be forged by what a message or value carries", "[runtime]") {
  set_log_format(LogFormat::kText);
  // A Lua hook's error quoting a client's name: a newline, a fake line,
  // a terminal escape, a byte outside UTF-8; UTF-8 itself is kept.
  std::string line = format_log_line(LogLevel::kWarning, "lua hook failed: x\n2026-01-01 info: fake\x1b]0;t\x07 \xff caf\xc3\xa9",
                                     {{"name", "a\nb"}, {"why", "say \"hi\" \\ now"}});
  CHECK(line.find(" warning: lua hook failed: x\\n2026-01-01 info: fake\\x1b]0;t\\x07 \\xff caf\xc3\xa9 ") !=
        std::string::npos);
  CHECK(line.find(" name=a\\nb") != std::string::npos);
  CHECK(line.find(" why=\"say \\\"hi\\\" \\\\ now\"\n") != std::string::npos);
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  CHECK(line.back() == '\n');
}

TEST_CASE("logs: escaping into a fixed buffer never overflows", "[runtime]") {
  char buf[8];
  size_t n = append_json_escaped(buf, 0, sizeof buf, "ab\"\x02");
  CHECK(std::string(buf, n) == "ab\\\"");  // the \u0002 escape does not fit: cut short
}

TEST_CASE("logs: timestamps in UTC without gmtime", "[runtime]") {
  char buf[32];
  format_utc(0, 0, buf);
  CHECK(std::string(buf) == "1970-01-01T00:00:00.000Z");
  format_utc(951782400 + 86399, 999, buf);  // the last second of a leap day
  CHECK(std::string(buf) == "2000-02-29T23:59:59.999Z");
  format_utc(1795564800 + 3723, 7, buf);
  CHECK(std::string(buf) == "2026-11-25T01:02:03.007Z");
  for (int64_t t = -86400 * 400; t < 86400LL * 365 * 300; t += 86400 * 37 + 3607) {
    time_t tt = static_cast<time_t>(t);
    tm g{};
    gmtime_r(&tt, &g);
    char want[96];
    snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", g.tm_year + 1900, g.tm_mon + 1, g.tm_mday,
             g.tm_hour, g.tm_min, g.tm_sec);
    format_utc(t, 0, buf);
    REQUIRE(std::string(buf) == want);
  }
}
