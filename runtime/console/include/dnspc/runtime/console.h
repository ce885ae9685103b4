// The console of `dnspc run` (docs/console.md): the policy's `console
// ADDR:PORT;` on the main thread's libuv loop. Like the web server it sees
// the runtime through its config only: a function that runs a control
// command line (the one command table, commands.h), the running policy's
// console ACL, the counters. So it sits below the control plane, which
// starts it, and links nothing of it.
//
// The pieces, each tested without a socket: the protocol
// (console_protocol.h), one connection (console_session.h), the Lua state
// (dnspc/lua/console_lua.h) and the functions it gives Lua
// (console_functions.h). This file adds the sockets and the limits.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/runtime/console_counters.h"
#include "dnspc/runtime/console_functions.h"
#include "dnspc/runtime/console_protocol.h"
#include "dnspc/runtime/policy_image.h"

namespace dnspc::runtime {

using ConsoleCommandRunner = console::CommandRunner;

struct ConsoleServerConfig {
  NetAddress address;
  console::Key key{};
  ConsoleCommandRunner command;
  // The running policy's console settings (the ACL); read on each
  // connection, so they follow reloads. Never null while the server runs.
  std::function<const ConsoleSpec*()> settings;
  ConsoleCounters* counters = nullptr;  // may be null
  // Connections that have not sent a good hello yet: past it the oldest is
  // closed, so a flood of idle connections cannot keep a client out.
  unsigned max_handshakes = 64;
  unsigned max_sessions = 16;  // authenticated; past it a new one is closed
  uint64_t handshake_timeout_ms = 5'000;
  uint64_t idle_timeout_ms = 15 * 60'000;  // no request for this long
  // Each session's Lua state.
  uint64_t lua_instructions = 10'000'000;  // per line
  size_t lua_memory_bytes = size_t{32} << 20;
};

class ConsoleServer {
 public:
  ConsoleServer(uv_loop_t* loop, ConsoleServerConfig config);
  ~ConsoleServer();

  // Listens; false with `error` naming the address and the fix.
  bool start(std::string& error);
  // Stops listening and closes every connection.
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// DNSPC_CONSOLE_HANDSHAKE_TIMEOUT_MS and DNSPC_CONSOLE_IDLE_TIMEOUT_MS (for
// tests) replace the timeouts of `config`.
void console_timeouts_from_env(ConsoleServerConfig& config);

}  // namespace dnspc::runtime
