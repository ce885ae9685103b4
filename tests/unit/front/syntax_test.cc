// Syntax errors: the friendlier codes for common mistakes, each pointing at
// the right token, and recovery that finds several errors in one pass.
#include <catch2/catch.hpp>

#include "front_test_support.h"

using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;

TEST_CASE("syntax-semicolon points just after the statement missing its semicolon", "[front][syntax]") {
  Loaded l = load("listen 127.0.0.1:5353\npool main { server 192.0.2.1; }\nrule default: true => pool main;\n");
  const auto& d = l.first("syntax-semicolon");
  CHECK(l.begin(d.range).line == 1);
  CHECK(l.begin(d.range).column == 22);
  CHECK(l.diags().error_count() == 1);
  CHECK_CLEAN(load("listen 127.0.0.1:5353;\npool main { server 192.0.2.1; }\nrule default: true => pool main;\n"));
}

TEST_CASE("syntax-semicolon at the very end of the file stays inside the file", "[front][syntax]") {
  // From the policy_frontend fuzz target: the range was one byte past the text.
  const std::string text = "pool main { server 192.0.2.1; }\nrule default: true => pool main";
  Loaded l = load(text);
  const auto& d = l.first("syntax-semicolon");
  CHECK(d.range.begin == text.size());
  CHECK(d.range.end == text.size());
  CHECK(l.begin(d.range).line == 2);
  CHECK(l.begin(d.range).column == 32);
  CHECK(l.text().find("expected ';' after 'main'") != std::string::npos);
}

TEST_CASE("syntax-arrow when the rule's '=>' is missing", "[front][syntax]") {
  Loaded l = load_wrapped("rule r: qname suffix \"x.example.\" drop;");
  const auto& d = l.first("syntax-arrow");
  CHECK(l.slice(d.range) == "drop");
  CHECK_CLEAN(load_wrapped("rule r: qname suffix \"x.example.\" => drop;"));
}

TEST_CASE("syntax-operator when a comparison lacks its operator", "[front][syntax]") {
  Loaded l = load_wrapped("rule r: qtype ANY => drop;");
  const auto& d = l.first("syntax-operator");
  CHECK(l.slice(d.range) == "ANY");
  CHECK(d.message.find("qtype == ANY") != std::string::npos);
  CHECK_CLEAN(load_wrapped("rule r: qtype == ANY => drop;"));
}

TEST_CASE("syntax-reserved when a keyword is used as a name", "[front][syntax]") {
  Loaded l = load_wrapped("rule log: rd => drop;");
  CHECK(l.slice(l.first("syntax-reserved").range) == "log");
  Loaded pool = load("pool drop { server 192.0.2.1; }\nrule default: true => pool drop;\n");
  CHECK_CODE(pool, "syntax-reserved");
  CHECK_CLEAN(load_wrapped("rule logged: rd => drop;"));
}

TEST_CASE("syntax-char for a character the language does not use", "[front][syntax]") {
  Loaded l = load_wrapped("rule r: rd & cd => drop;");
  CHECK(l.slice(l.first("syntax-char").range) == "&");
}

TEST_CASE("syntax-string for a string not closed on its line", "[front][syntax]") {
  Loaded l = load_wrapped("rule r: qname suffix \"x.example. => drop;");
  const auto& d = l.first("syntax-string");
  CHECK(l.begin(d.range).column == 22);
}

TEST_CASE("syntax for anything else, naming what was expected", "[front][syntax]") {
  Loaded l = load_wrapped("listen ;");
  const auto& d = l.first("syntax");
  CHECK(d.message.find("an IPv4 address") != std::string::npos);
  CHECK(l.slice(d.range) == ";");
}

TEST_CASE("the parser recovers and reports every syntax error once", "[front][syntax]") {
  Loaded l = load(
      "listen 127.0.0.1:5353\n"
      "pool main { server 192.0.2.1; }\n"
      "rule a: rd drop;\n"
      "rule b: qtype ANY => drop;\n"
      "rule default: true => pool main;\n");
  INFO(l.text());
  CHECK(l.count("syntax-semicolon") == 1);
  CHECK(l.count("syntax-arrow") == 1);
  CHECK(l.count("syntax-operator") == 1);
  CHECK(l.diags().error_count() == 3);
  // Syntax errors stop the front end before sema: no model.
  CHECK_FALSE(l.result().model);
}

TEST_CASE("empty-policy for an empty or blank file", "[front][syntax]") {
  CHECK_CODE(load(""), "empty-policy");
  CHECK_CODE(load("  \n\t\n"), "empty-policy");
  CHECK_NO_CODE(load_wrapped(""), "empty-policy");
}

TEST_CASE("bad-encoding for text that is not UTF-8, at the first bad byte", "[front][syntax]") {
  Loaded l = load_wrapped("rule r: qname suffix \"x\xff.example.\" => drop;");
  const auto& d = l.first("bad-encoding");
  CHECK(l.slice(d.range) == "\xff");
  CHECK(d.message.find("0xff") != std::string::npos);
  CHECK_CODE(load("rule \xe2\x82"), "bad-encoding");          // cut short
  CHECK_CODE(load("# \xc0\xaf overlong\n"), "bad-encoding");  // overlong '/'
  CHECK_NO_CODE(load_wrapped("# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "bad-encoding");
}
