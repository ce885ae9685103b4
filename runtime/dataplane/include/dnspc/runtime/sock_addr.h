// A client or server socket address, IPv4 or IPv6, as the socket calls take it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

namespace dnspc::runtime {

union SockAddr {
  sockaddr sa;
  sockaddr_in in4;
  sockaddr_in6 in6;
};

}  // namespace dnspc::runtime
