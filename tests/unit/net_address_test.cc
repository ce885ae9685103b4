#include <catch2/catch.hpp>

#include <sys/socket.h>

#include "dnspc/net_address.h"

using dnspc::NetAddress;

TEST_CASE("addresses parse with and without ports", "[net]") {
  auto a = NetAddress::parse("192.0.2.1:5353");
  REQUIRE(a);
  CHECK(a->is_v4());
  CHECK(a->port == 5353);
  CHECK(a->to_string() == "192.0.2.1:5353");

  auto b = NetAddress::parse("192.0.2.1", 53);
  REQUIRE(b);
  CHECK(b->port == 53);

  auto c = NetAddress::parse("[2001:db8::1]:8053");
  REQUIRE(c);
  CHECK(c->is_v6());
  CHECK(c->port == 8053);
  CHECK(c->to_string() == "[2001:db8::1]:8053");

  auto d = NetAddress::parse("::1", 53);
  REQUIRE(d);
  CHECK(d->is_v6());
  CHECK(d->bytes[15] == 1);
  CHECK(d->port == 53);

  for (const char* bad : {"", "1.2.3", "1.2.3.4:", "1.2.3.4:70000", "[::1", "[1.2.3.4]:53",
                          "example.com", "::1]:53"}) {
    CHECK_FALSE(NetAddress::parse(bad));
  }
}

TEST_CASE("sockaddr round trip", "[net]") {
  for (const char* text : {"127.0.0.1:53", "[::1]:5300"}) {
    auto a = NetAddress::parse(text);
    REQUIRE(a);
    sockaddr_storage ss;
    REQUIRE(a->to_sockaddr(ss) > 0);
    CHECK(NetAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)) == *a);
  }
}
