#include "dnspc/runtime/sockets.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dnspc::runtime {

namespace {

int family_of(AddressFamily f) { return f == AddressFamily::kIPv6 ? AF_INET6 : AF_INET; }

void set_buffers(int fd) {
  // As large as the system allows an unprivileged process (net.core.*mem_max):
  // a burst must not overflow a socket between two wake-ups.
  int size = 4 << 20;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

std::string errno_text(const char* what, const NetAddress& a) {
  return std::string(what) + " " + a.to_string(true) + ": " + std::strerror(errno);
}

}  // namespace

int open_listener(const NetAddress& address, std::string& error) {
  int fd = ::socket(family_of(address.family), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket for", address);
    return -1;
  }
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    error = errno_text("SO_REUSEPORT on", address);
    ::close(fd);
    return -1;
  }
  if (address.is_v6()) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  set_buffers(fd);
  sockaddr_storage ss{};
  unsigned len = address.to_sockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error = errno_text("bind", address);
    ::close(fd);
    return -1;
  }
  return fd;
}

int open_tcp_listener(const NetAddress& address, std::string& error) {
  int fd = ::socket(family_of(address.family), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("TCP socket for", address);
    return -1;
  }
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    error = errno_text("SO_REUSEPORT on TCP", address);
    ::close(fd);
    return -1;
  }
  if (address.is_v6()) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_storage ss{};
  unsigned len = address.to_sockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error = errno_text("bind TCP", address);
    ::close(fd);
    return -1;
  }
  if (::listen(fd, 1024) != 0) {
    error = errno_text("listen on TCP", address);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool address_free(const NetAddress& address, std::string& error) {
  for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
    int fd = ::socket(family_of(address.family), type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = errno_text("socket for", address);
      return false;
    }
    int one = 1;
    if (address.is_v6()) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (type == SOCK_STREAM) (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    unsigned len = address.to_sockaddr(ss);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
    if (!ok) error = errno_text(type == SOCK_DGRAM ? "cannot listen (UDP) on" : "cannot listen (TCP) on", address);
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

int open_backend_socket(AddressFamily family, std::string& error, uint16_t* port) {
  int fd = ::socket(family_of(family), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  set_buffers(fd);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AddressFamily::kIPv6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = in6addr_any;
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_ANY);
    len = sizeof *s4;
  }
  // Port 0: Linux picks a random free port of ip_local_port_range.
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error = std::string("bind backend socket: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (port) *port = local_port(fd);
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace dnspc::runtime
