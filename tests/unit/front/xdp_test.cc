// The `xdp "IFACE" [mode native|generic];` statement (docs/xdp.md): what the
// parser keeps, the setting the model gets, and each check with its near
// miss that must stay quiet.
#include <catch2/catch.hpp>

#include "front_test_support.h"

using dnspc::sema::XdpMode;
using front_test::load_wrapped;
using front_test::Loaded;
using front_test::Parsed;

namespace {

// The only diagnostic must be `code` over `at`.
void expect_only(const Loaded& l, const char* code, std::string_view at) {
  INFO(l.text());
  REQUIRE(l.diags().all().size() == 1);
  CHECK(l.diags().all()[0].code == code);
  CHECK(l.slice(l.diags().all()[0].range) == at);
  CHECK_FALSE(l.ok());
}

}  // namespace

TEST_CASE("xdp keeps its interface, settings and their ranges", "[front][xdp]") {
  Parsed p("xdp \"eth0\" mode generic;\n");
  REQUIRE(p.ast().xdps.size() == 1);
  const auto& x = p.ast().xdps[0];
  CHECK(x.interface == "eth0");
  CHECK(p.slice(x.interface_range) == "\"eth0\"");
  CHECK(p.slice(x.range) == "xdp \"eth0\" mode generic;");
  REQUIRE(x.settings.size() == 1);
  CHECK(x.settings[0].name.text == "mode");
  CHECK(x.settings[0].value.text == "generic");
  CHECK(p.slice(x.settings[0].range) == "mode generic");
}

TEST_CASE("xdp: the model gets the interface and the mode, native by default", "[front][xdp]") {
  Loaded plain = load_wrapped("xdp \"eth0\";");
  CHECK_CLEAN(plain);
  REQUIRE(plain.model().xdp);
  CHECK(plain.model().xdp->interface == "eth0");
  CHECK(plain.model().xdp->mode == XdpMode::kNative);
  CHECK(plain.slice(plain.model().xdp->range) == "xdp \"eth0\";");

  Loaded generic = load_wrapped("xdp \"veth-a.1@x\" mode generic;");
  CHECK_CLEAN(generic);
  REQUIRE(generic.model().xdp);
  CHECK(generic.model().xdp->interface == "veth-a.1@x");
  CHECK(generic.model().xdp->mode == XdpMode::kGeneric);

  Loaded native = load_wrapped("xdp \"eth0\" mode native;");
  CHECK_CLEAN(native);
  CHECK(native.model().xdp->mode == XdpMode::kNative);

  CHECK_FALSE(load_wrapped("").model().xdp);
}

TEST_CASE("duplicate-xdp: one interface, one statement", "[front][xdp]") {
  Loaded l = load_wrapped("xdp \"eth0\";\nxdp \"eth1\" mode generic;");
  INFO(l.text());
  REQUIRE(l.count("duplicate-xdp") == 1);
  const auto& d = l.first("duplicate-xdp");
  CHECK(l.slice(d.range) == "xdp \"eth1\" mode generic;");
  REQUIRE(d.notes.size() == 1);
  CHECK(l.slice(d.notes[0].range) == "xdp \"eth0\";");
  CHECK_FALSE(l.ok());
}

TEST_CASE("unknown-xdp-mode names the modes and guesses", "[front][xdp]") {
  Loaded typo = load_wrapped("xdp \"eth0\" mode nativ;");
  expect_only(typo, "unknown-xdp-mode", "nativ");
  CHECK(typo.first("unknown-xdp-mode").message.find("did you mean 'native'?") != std::string::npos);
  CHECK(typo.first("unknown-xdp-mode").message.find("generic") != std::string::npos);
  expect_only(load_wrapped("xdp \"eth0\" mode \"native\";"), "unknown-xdp-mode", "\"native\"");
  expect_only(load_wrapped("xdp \"eth0\" mode 1;"), "unknown-xdp-mode", "1");
}

TEST_CASE("xdp settings: unknown and twice", "[front][xdp]") {
  Loaded unknown = load_wrapped("xdp \"eth0\" moed native;");
  expect_only(unknown, "unknown-xdp-setting", "moed");
  CHECK(unknown.first("unknown-xdp-setting").message.find("mode generic") != std::string::npos);
  Loaded twice = load_wrapped("xdp \"eth0\" mode native mode generic;");
  expect_only(twice, "duplicate-xdp-setting", "mode generic");
  REQUIRE(twice.first("duplicate-xdp-setting").notes.size() == 1);
  CHECK(twice.slice(twice.first("duplicate-xdp-setting").notes[0].range) == "mode native");
}

TEST_CASE("bad-interface: what Linux refuses as a device name", "[front][xdp]") {
  Loaded empty = load_wrapped("xdp \"\";");
  expect_only(empty, "bad-interface", "\"\"");
  CHECK(empty.first("bad-interface").message.find("empty") != std::string::npos);

  // IFNAMSIZ - 1 = 15 bytes is the longest; 16 is refused.
  CHECK_CLEAN(load_wrapped("xdp \"abcdefghijklmno\";"));
  Loaded longer = load_wrapped("xdp \"abcdefghijklmnop\";");
  expect_only(longer, "bad-interface", "\"abcdefghijklmnop\"");
  CHECK(longer.first("bad-interface").message.find("16 bytes") != std::string::npos);
  CHECK(longer.first("bad-interface").message.find("at most 15") != std::string::npos);

  Loaded slash = load_wrapped("xdp \"eth/0\";");
  expect_only(slash, "bad-interface", "\"eth/0\"");
  CHECK(slash.first("bad-interface").message.find("'/'") != std::string::npos);
  expect_only(load_wrapped("xdp \"eth0:1\";"), "bad-interface", "\"eth0:1\"");
  Loaded space = load_wrapped("xdp \"eth 0\";");
  expect_only(space, "bad-interface", "\"eth 0\"");
  CHECK(space.first("bad-interface").message.find("whitespace") != std::string::npos);
  expect_only(load_wrapped("xdp \"eth\t0\";"), "bad-interface", "\"eth\t0\"");
  expect_only(load_wrapped("xdp \"..\";"), "bad-interface", "\"..\"");
}

TEST_CASE("syntax-xdp: an unquoted interface, reported once", "[front][xdp]") {
  Parsed p("xdp eth0;\npool main { server 192.0.2.1; }\n");
  INFO(p.codes());
  CHECK(p.failed());
  CHECK(p.codes() == "syntax-xdp");
}

TEST_CASE("xdp is a statement anywhere at the top level, in a split parse too", "[front][xdp]") {
  // Large files are parsed in chunks on several cores; the statement must
  // survive the join whichever chunk holds it.
  std::string text = "pool main { server 192.0.2.1; }\n";
  for (int i = 0; i < 20'000; ++i)
    text +=
        "rule r" + std::to_string(i) + ": qname suffix \"a" + std::to_string(i) + ".\" => drop;\n";
  text += "xdp \"eth0\" mode generic;\nrule default: true => pool main;\n";
  Loaded l = front_test::load(text);
  INFO(l.text());
  REQUIRE(l.ok());
  REQUIRE(l.model().xdp);
  CHECK(l.model().xdp->mode == XdpMode::kGeneric);
}
