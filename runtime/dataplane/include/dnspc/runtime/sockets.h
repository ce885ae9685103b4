// UDP sockets opened by hand: libuv 1.44 cannot set SO_REUSEPORT, so the
// runtime opens, configures and binds them itself and watches them with
// uv_poll. All non-blocking and close-on-exec.
#pragma once

#include <sys/socket.h>

#include <string>

#include "dnspc/net_address.h"

namespace dnspc::runtime {

// A listener for one worker: SO_REUSEPORT (so every worker binds the same
// address and the kernel spreads clients over them), IPV6_V6ONLY for IPv6,
// large buffers. Returns the fd or -1 with `error` set.
int open_listener(const NetAddress& address, std::string& error);

// The TCP counterpart of open_listener: SO_REUSEPORT, bound and listening.
int open_tcp_listener(const NetAddress& address, std::string& error);

// Fails (false, `error` set) when something else holds the address already
// (UDP or TCP),
// which SO_REUSEPORT alone would not notice if the holder also used it.
bool address_free(const NetAddress& address, std::string& error);

// A socket toward backends of `family`, bound to the wildcard address on a
// port the kernel picks at random from the ephemeral range. Unconnected, so
// datagrams from any source reach us and can be checked and counted.
int open_backend_socket(AddressFamily family, std::string& error, uint16_t* port = nullptr);

// The port a socket is bound to, or 0.
uint16_t local_port(int fd);

}  // namespace dnspc::runtime
