// Structure checks: duplicates, missing ports, terminal actions, operators,
// QPS placement, the catch-all rule, the default pool, tags, files.
#include <catch2/catch.hpp>

#include "front_test_support.h"

using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;

namespace {

const std::string kTail = "rule default: true => pool main;\n";

// The first `code` diagnostic must cover `at` and carry one note covering `note_at`.
void expect_with_note(const Loaded& l, const char* code, std::string_view at, std::string_view note_at) {
  INFO(l.text());
  REQUIRE(l.has(code));
  const auto& d = l.first(code);
  CHECK(l.slice(d.range) == at);
  REQUIRE(d.notes.size() == 1);
  CHECK(l.slice(d.notes[0].range) == note_at);
  CHECK(l.begin(d.notes[0].range).line < l.begin(d.range).line);
  CHECK_FALSE(l.ok());
}

}  // namespace

TEST_CASE("duplicate-pool", "[front][structure]") {
  expect_with_note(load("pool main { server 192.0.2.1; }\npool main { server 192.0.2.2; }\n" + kTail),
                   "duplicate-pool", "main", "main");
  CHECK_CLEAN(load("pool main { server 192.0.2.1; }\npool other { server 192.0.2.2; }\n"
                   "rule r: rd => pool other;\n" + kTail));
}

TEST_CASE("duplicate-set, whatever the kinds", "[front][structure]") {
  expect_with_note(load_wrapped("suffixes s = { \"x.\" };\nnetmasks s = { 10.0.0.0/8 };\nrule r: qname in s => drop;"),
                   "duplicate-set", "s", "s");
}

TEST_CASE("duplicate-server: the same address and port in one pool", "[front][structure]") {
  // Port 53 is the default, so 192.0.2.1 and 192.0.2.1:53 are one server.
  Loaded l = load("pool main {\n  server 192.0.2.1;\n  server 192.0.2.1:53;\n}\n" + kTail);
  INFO(l.text());
  REQUIRE(l.has("duplicate-server"));
  CHECK(l.slice(l.first("duplicate-server").range) == "192.0.2.1:53");
  CHECK(l.first("duplicate-server").message == "server 192.0.2.1:53 is listed twice in pool 'main'");
  // Another port is another server; the same server in two pools is fine.
  CHECK_CLEAN(load("pool main { server 192.0.2.1; server 192.0.2.1:5300; }\n"
                   "pool b { server 192.0.2.1; }\nrule r: rd => pool b;\n" + kTail));
}

TEST_CASE("duplicate-attribute", "[front][structure]") {
  expect_with_note(load("pool main { server 192.0.2.1 weight 2\n weight 3; }\n" + kTail), "duplicate-attribute",
                   "weight", "weight");
  CHECK_CLEAN(load("pool main { server 192.0.2.1 weight 2 order 3; }\n" + kTail));
}

TEST_CASE("duplicate-rule: across rules, response rules and dynamic blocks", "[front][structure]") {
  expect_with_note(load_wrapped("rule r1: rd => drop;\nrule r1: cd => drop;"), "duplicate-rule", "r1", "r1");
  CHECK_CODE(load_wrapped("rule r1: rd => drop;\nresponse rule r1: rd => log;"), "duplicate-rule");
  CHECK_CODE(load_wrapped("response rule r1: rd => log;\ndynblock r1: queries > 5 per src over 5s => drop for 1m;"),
             "duplicate-rule");
  CHECK_CODE(load_wrapped("rule default: rd => drop;"), "duplicate-rule");
  CHECK_CLEAN(load_wrapped("rule r1: rd => drop;\nresponse rule r2: rd => log;\n"
                           "dynblock r3: queries > 5 per src over 5s => drop for 1m;"));
}

TEST_CASE("duplicate-option", "[front][structure]") {
  expect_with_note(load_wrapped("option workers 2;\noption workers 2;"), "duplicate-option", "workers", "workers");
  CHECK_CLEAN(load_wrapped("option workers 2;\noption udp_timeout 1s;"));
}

TEST_CASE("duplicate-listen: the same address and port twice", "[front][structure]") {
  Loaded l = load_wrapped("listen 127.0.0.1;\nlisten 127.0.0.1:53;");
  INFO(l.text());
  CHECK(l.slice(l.first("duplicate-listen").range) == "127.0.0.1:53");
  CHECK_CODE(load_wrapped("listen [::1]:5353, [::1]:5353;"), "duplicate-listen");
  CHECK_CLEAN(load_wrapped("listen 127.0.0.1, 127.0.0.1:5353, ::1;"));
}

TEST_CASE("duplicate-endpoint: console, web or control set twice", "[front][structure]") {
  CHECK_CODE(load_wrapped("web 127.0.0.1:8083;\nweb 127.0.0.1:8084;"), "duplicate-endpoint");
  CHECK_CODE(load_wrapped("console 127.0.0.1:5199;\nconsole 127.0.0.1:5199;"), "duplicate-endpoint");
  CHECK_CODE(load_wrapped("control \"/a\";\ncontrol \"/b\";"), "duplicate-endpoint");
  CHECK_CLEAN(load_wrapped("web 127.0.0.1:8083;\nconsole 127.0.0.1:5199;\ncontrol \"/a\";"));
}

TEST_CASE("missing-port: console and web need one", "[front][structure]") {
  Loaded web = load_wrapped("web 127.0.0.1;");
  INFO(web.text());
  CHECK(web.slice(web.first("missing-port").range) == "127.0.0.1");
  CHECK(web.first("missing-port").message == "the web endpoint needs a port, like 127.0.0.1:8083");
  CHECK_CODE(load_wrapped("console [::1];"), "missing-port");
  CHECK_CLEAN(load_wrapped("web 127.0.0.1:8083;\nconsole [::1]:5199;"));
}

TEST_CASE("no-terminal: modifiers only", "[front][structure]") {
  Loaded l = load_wrapped("rule watch: rd => log tag \"t\";");
  INFO(l.text());
  CHECK(l.slice(l.first("no-terminal").range) == "watch");
  // An unknown word may have been meant as the terminal: only it is reported.
  Loaded unknown = load_wrapped("rule watch: rd => log dorp;");
  CHECK_NO_CODE(unknown, "no-terminal");
  CHECK_CODE(unknown, "unknown-action");
  CHECK_CLEAN(load_wrapped("rule watch: rd => log drop;"));
}

TEST_CASE("two-terminals and modifier-after-terminal", "[front][structure]") {
  Loaded two = load_wrapped("rule r: rd => drop refuse;");
  INFO(two.text());
  CHECK(two.slice(two.first("two-terminals").range) == "refuse");
  REQUIRE(two.first("two-terminals").notes.size() == 1);
  CHECK(two.slice(two.first("two-terminals").notes[0].range) == "drop");
  Loaded after = load_wrapped("rule r: rd => drop log;");
  CHECK(after.slice(after.first("modifier-after-terminal").range) == "log");
  CHECK_NO_CODE(after, "two-terminals");
  Loaded response = load_wrapped("response rule r: rd => drop log;");
  CHECK_CODE(response, "modifier-after-terminal");
  CHECK_CLEAN(load_wrapped("rule r: rd => log drop;\nresponse rule s: rd => log drop;"));
}

TEST_CASE("bad-response-action: query-only actions in a response rule", "[front][structure]") {
  for (const char* action : {"pool main", "refuse", "allow", "spoof A 192.0.2.1", "delay 5ms", "no_recurse", "set_cd"}) {
    INFO(action);
    Loaded l = load_wrapped(std::string("response rule r: rd => ") + action + ";");
    INFO(l.text());
    REQUIRE(l.has("bad-response-action"));
    CHECK(l.slice(l.first("bad-response-action").range) == action);
  }
  CHECK_CLEAN(load_wrapped("response rule a: rd => tag \"x\" log drop;\nresponse rule b: cd => truncate;\n"
                           "response rule c: ad => rcode SERVFAIL;\nresponse rule d: aa => log;"));
}

TEST_CASE("bad-block-action: what a dynamic block cannot do", "[front][structure]") {
  for (const char* action : {"allow", "rcode NXDOMAIN", "log", "spoof A 192.0.2.1"}) {
    INFO(action);
    Loaded l = load_wrapped(std::string("dynblock d: queries > 5 per src over 5s => ") + action + " for 1m;");
    INFO(l.text());
    REQUIRE(l.has("bad-block-action"));
    CHECK(l.slice(l.first("bad-block-action").range) == action);
  }
  for (const char* action : {"drop", "refuse", "truncate", "no_recurse", "pool main"}) {
    INFO(action);
    CHECK_CLEAN(load_wrapped(std::string("dynblock d: queries > 5 per src over 5s => ") + action + " for 1m;"));
  }
}

TEST_CASE("bad-operator: a field used the wrong way", "[front][structure]") {
  struct Case {
    const char* condition;
    const char* message;
  };
  const Case bad[] = {
      {"rd == 1", "'rd' is a flag: use it alone, like 'rd' or 'not rd'"},
      {"udp in 10.0.0.0/8", "'udp' is a flag: use it alone, like 'rd' or 'not rd'"},
      {"src == 192.0.2.7", "'src' takes 'in', like 'src in 192.0.2.0/24'"},
      {"src", "'src' needs 'in', like 'src in 192.0.2.0/24'"},
      {"qname", "'qname' needs a comparison, like '== value'"},
      {"qname > \"x.\"", "'qname' takes ==, !=, suffix, in or ~"},
      {"qname == x", "'qname' is compared with a name in quotes"},
      {"qtype < A", "'qtype' takes == or !="},
      {"qname.labels suffix \"x.\"", "'qname.labels' takes a comparison, like '> 3'"},
      {"size in 10.0.0.0/8", "'size' takes a comparison, like '> 3'"},
  };
  for (const Case& c : bad) {
    INFO(c.condition);
    Loaded l = load_wrapped(std::string("rule r: ") + c.condition + " => drop;");
    INFO(l.text());
    REQUIRE(l.has("bad-operator"));
    CHECK(l.slice(l.first("bad-operator").range) == c.condition);
    CHECK(l.first("bad-operator").message == c.message);
  }
  CHECK_CODE(load_wrapped("response rule r: latency => log;"), "bad-operator");
  CHECK_CODE(load_wrapped("response rule r: rcode > NOERROR => log;"), "bad-operator");
  CHECK_CLEAN(load_wrapped("response rule r: latency >= 5ms => log;"));
}

TEST_CASE("qps-placement: a bound only under a top-level 'and'", "[front][structure]") {
  for (const char* condition : {"rd or qps > 5", "not qps > 5", "not (rd and qps > 5)", "(rd or cd) and (ad or qps > 5)"}) {
    INFO(condition);
    Loaded l = load_wrapped(std::string("rule r: ") + condition + " => drop;");
    INFO(l.text());
    REQUIRE(l.has("qps-placement"));
    CHECK(l.slice(l.first("qps-placement").range) == "qps > 5");
  }
  CHECK_CODE(load_wrapped("response rule r: qps > 5 => log;"), "qps-placement");
  for (const char* condition : {"qps > 5", "rd and qps > 5", "qps > 5 and rd", "(rd or cd) and qps > 5 and ad"}) {
    INFO(condition);
    CHECK_CLEAN(load_wrapped(std::string("rule r: ") + condition + " => drop;"));
  }
}

TEST_CASE("no-default-rule: the last rule must match every query and decide", "[front][structure]") {
  Loaded none = load("pool main { server 192.0.2.1; }\n");
  CHECK_CODE(none, "no-default-rule");
  Loaded partial = load("pool main { server 192.0.2.1; }\nrule r: rd => pool main;\n");
  INFO(partial.text());
  CHECK(partial.slice(partial.first("no-default-rule").range) == "r");
  Loaded truncating = load("pool main { server 192.0.2.1; }\nrule r: rd => pool main;\nrule t: true => truncate;\n");
  CHECK_CODE(truncating, "no-default-rule");
  // A response rule or dynamic block after it does not matter.
  CHECK_CLEAN(load("pool main { server 192.0.2.1; }\nrule d: true => pool main;\nresponse rule s: rd => log;\n"));
  CHECK_CLEAN(load("pool main { server 192.0.2.1; }\nrule d: (true) => pool main;\n"));
}

TEST_CASE("no-default-pool: allow without any pool", "[front][structure]") {
  Loaded l = load("rule default: true => allow;\n");
  INFO(l.text());
  CHECK(l.slice(l.first("no-default-pool").range) == "allow");
  CHECK_CLEAN(load("pool p { server 192.0.2.1; }\nrule default: true => allow;\n"));
  // Without allow, a policy needs no pool.
  CHECK_CLEAN(load("rule default: true => refuse;\n"));
}

TEST_CASE("too-many-tags: at most 64", "[front][structure]") {
  auto tags = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += "rule t" + std::to_string(i) + ": qname == \"n" + std::to_string(i) + ".\" => tag \"t" + std::to_string(i) + "\" drop;\n";
    return out;
  };
  CHECK_CODE(load_wrapped(tags(65)), "too-many-tags");
  CHECK_CLEAN(load_wrapped(tags(64)));
  // The same tag used twice is one tag.
  CHECK_CLEAN(load_wrapped(tags(64) + "rule again: rd => tag \"t0\" drop;"));
}

TEST_CASE("missing-file: set and Lua files that cannot be read", "[front][structure]") {
  Loaded set = load_wrapped("netmasks n = file \"data/no-such-file.txt\";\nrule r: src in n => drop;");
  INFO(set.text());
  CHECK(set.slice(set.first("missing-file").range) == "\"data/no-such-file.txt\"");
  CHECK_NO_CODE(set, "empty-set");
  Loaded lua = load_wrapped("lua \"data/no-such.lua\";\nrule r: lua f => drop;");
  CHECK_CODE(lua, "missing-file");
  CHECK_NO_CODE(lua, "unknown-lua-function");  // it would only repeat the missing file
}

TEST_CASE("lua-load: a Lua file that does not load, at its own line", "[front][structure]") {
  Loaded l = load_wrapped("lua \"data/syntax_error.lua\";\nrule r: lua deep_name => drop;");
  INFO(l.text());
  const auto& d = l.first("lua-load");
  CHECK(l.diags().sources().path(d.range.file) == front_test::check_dir() + "/data/syntax_error.lua");
  CHECK(l.begin(d.range).line == 4);
  REQUIRE(d.notes.size() == 1);
  CHECK(l.slice(d.notes[0].range) == "\"data/syntax_error.lua\"");
  CHECK_NO_CODE(l, "unknown-lua-function");
  Loaded runtime = load_wrapped("lua \"data/runtime_error.lua\";\nrule r: lua deep_name => drop;");
  CHECK(runtime.begin(runtime.first("lua-load").range).line == 3);
}
