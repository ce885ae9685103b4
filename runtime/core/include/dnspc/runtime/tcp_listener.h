// What the web server and the console share to open their TCP listeners on
// the main loop, and to read their test-only timeouts from the environment.
// Header-only: its users link libuv; the core library itself does not.
#pragma once

#include <uv.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dnspc/net_address.h"

namespace dnspc::runtime {

// Binds `listener` (initialised here, `data` set to `owner`) to `address` and
// listens. On failure: `error` names the thing (`what`: "the web server"),
// the address, libuv's reason and the fix (`statement`: the policy statement
// that chose the address), the handle is closed, and false.
inline bool listen_tcp(uv_loop_t* loop, uv_tcp_t* listener, void* owner, const NetAddress& address,
                       int backlog, uv_connection_cb on_connection, std::string_view what,
                       std::string_view statement, std::string& error) {
  uv_tcp_init(loop, listener);
  listener->data = owner;
  sockaddr_storage ss;
  address.to_sockaddr(ss);
  int r = uv_tcp_bind(listener, reinterpret_cast<sockaddr*>(&ss), 0);
  // libuv may report a bind error only at listen.
  if (r == 0) r = uv_listen(reinterpret_cast<uv_stream_t*>(listener), backlog, on_connection);
  if (r == 0) return true;
  error = std::string(what) + " cannot listen on " + address.to_string(true) + ": " + uv_strerror(r);
  if (r == UV_EADDRINUSE)
    error += "; another process holds it: stop it or give `" + std::string(statement) + "` another port";
  if (r == UV_EACCES) error += "; ports below 1024 need root or CAP_NET_BIND_SERVICE";
  if (r == UV_EADDRNOTAVAIL) error += "; no interface of this machine has that address";
  uv_close(reinterpret_cast<uv_handle_t*>(listener), nullptr);
  return false;
}

// Milliseconds from the environment variable `name` into `out` when it holds
// a whole number from 1 to `max`; anything else leaves `out` as it was.
inline void milliseconds_from_env(const char* name, uint64_t max, uint64_t& out) {
  const char* v = std::getenv(name);
  if (!v) return;
  uint64_t ms = 0;
  const std::string_view text(v);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && end == text.data() + text.size() && ms >= 1 && ms <= max) out = ms;
}

}  // namespace dnspc::runtime
