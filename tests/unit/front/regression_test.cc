// Front-end bugs found by review, kept as regression tests now they are fixed.
#include <catch2/catch.hpp>

#include "front_test_support.h"

using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;

TEST_CASE("regression: '=' for '==' in a condition should be syntax-assign", "[front][regression]") {
  // Today: "expected '=>' between the rule's condition and its action, found '='"
  // [syntax-arrow]; syntax-assign is never emitted: after `qname` the parser
  // has already closed a flag predicate, so '==' is not among the expected tokens.
  Loaded l = load_wrapped("rule r: qname = \"x.example.\" => drop;");
  CHECK_CODE(l, "syntax-assign");
  CHECK_NO_CODE(l, "syntax-arrow");
}

TEST_CASE("regression: a regex without slashes should be syntax-regex", "[front][regression]") {
  // Today `qname ~ a` parses (the grammar accepts REGEX_MISSING after '~')
  // and sema reports "empty pattern" [bad-regex] with no source location.
  Loaded l = load_wrapped("rule r: qname ~ a => drop;");
  CHECK_CODE(l, "syntax-regex");
  for (const auto& d : l.diags().all()) CHECK(d.range.valid());
}

TEST_CASE("regression: an unclosed regex should be syntax-regex", "[front][regression]") {
  // Today: "expected '=>' ..., found 'abc'" [syntax-arrow].
  Loaded l = load_wrapped("rule r: qname ~ /abc => drop;");
  CHECK_CODE(l, "syntax-regex");
}

TEST_CASE("regression: a name ending in two dots should be bad-name", "[front][regression]") {
  // Today "example.com.." is accepted and kept as "example.com..".
  CHECK_CODE(load_wrapped("rule r: qname suffix \"example.com..\" => drop;"), "bad-name");
}

TEST_CASE("regression: edns.option cannot be written ('option' is reserved)", "[front][regression]") {
  // Today: "'option' is a reserved word and cannot be used as a name here".
  CHECK_CLEAN(load_wrapped("rule r: edns.option == NSID => drop;"));
}

TEST_CASE("regression: response.size cannot be written ('response' is reserved)", "[front][regression]") {
  CHECK_CLEAN(load_wrapped("response rule r: response.size > 512 => log;"));
}

TEST_CASE("regression: a too-large integer is reported twice", "[front][regression]") {
  // Today bad-integer is followed by "weight 9223372036854775807 is out of
  // range" [out-of-range], a number the user never wrote.
  Loaded l = load("pool main { server 192.0.2.1 weight 99999999999999999999; }\nrule default: true => pool main;\n");
  CHECK(l.diags().error_count() == 1);
  CHECK_CODE(l, "bad-integer");
}

TEST_CASE("regression: a too-long duration is reported twice", "[front][regression]") {
  // Today bad-duration is followed by "delay must be 1ms to 10s" [out-of-range].
  Loaded l = load_wrapped("rule r: rd => delay 99999999999999999999ms drop;");
  CHECK(l.diags().error_count() == 1);
  CHECK_CODE(l, "bad-duration");
}

TEST_CASE("regression: errors in one policy silence the warnings of the next", "[front][regression]") {
  // `dnspc check bad.dp good.dp` shares one Diagnostics; sema gates the
  // static checks and empty-set on diags.has_errors(), which counts the
  // errors of every file so far.
  dnspc::diag::SourceManager sources;
  dnspc::diag::Diagnostics diags(sources);
  const std::string dir = front_test::check_dir();
  dnspc::frontend::load_policy_text(dir + "/bad.dp", front_test::wrap("rule r: rd => pool mian;"), diags);
  size_t before = diags.warning_count();
  dnspc::frontend::load_policy_text(
      dir + "/good.dp",
      "pool main { server 192.0.2.1; }\npool spare { server 192.0.2.2; }\nsuffixes none = { };\n"
      "rule r: qname in none => drop;\nrule default: true => pool main;\n",
      diags);
  CHECK(diags.warning_count() - before == 2);  // unused-pool and empty-set
}

TEST_CASE("regression: unknown qtypes and rcodes get no 'did you mean'", "[front][regression]") {
  // docs/language.md promises "did you mean" for qtypes and rcodes too.
  Loaded qtype = load_wrapped("rule r: qtype == AAA => drop;");
  CHECK(qtype.first("unknown-qtype").message.find("did you mean 'AAAA'") != std::string::npos);
  Loaded rcode = load_wrapped("rule r: rd => rcode NXDOMIAN;");
  CHECK(rcode.first("unknown-rcode").message.find("did you mean 'NXDOMAIN'") != std::string::npos);
}

TEST_CASE("regression: the documented values drop and refuse cannot be written", "[front][regression]") {
  // `drop` and `refuse` are keywords, and the grammar's `value` takes no
  // keyword, so these documented settings are "reserved word" syntax errors.
  CHECK_CLEAN(load_wrapped("option timeout_answer drop;"));
  CHECK_CLEAN(load_wrapped("option acl_action drop;"));
  CHECK_CLEAN(load_wrapped("option acl_action refuse;"));
  CHECK_CLEAN(load("pool main { server 192.0.2.1; on_no_server drop; }\nrule default: true => pool main;\n"));
}
