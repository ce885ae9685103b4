// systemd's readiness protocol (sd_notify(3)) without libsystemd: one
// datagram of "KEY=VALUE" lines to the Unix socket systemd names in
// $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Used by
// `dnspc run` under a Type=notify unit (docs/reliability.md, "systemd").
// Without $NOTIFY_SOCKET every call does nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dnspc::runtime {

class ServiceNotifier {
 public:
  // Takes $NOTIFY_SOCKET and unsets it, so that nothing dnspc starts (a Lua
  // hook's os.execute) can speak for dnspc to systemd.
  static ServiceNotifier from_environment();
  explicit ServiceNotifier(std::string socket_path = "") : path_(std::move(socket_path)) {}

  bool active() const { return !path_.empty(); }

  // Each sends one datagram; false when inactive or the send failed (the
  // reason in *error). A failure is never fatal: systemd then times out
  // the start, which says more than dnspc stopping would.
  bool ready(std::string_view status, std::string* error = nullptr);
  // RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC), as systemd >= 253
  // wants it; READY=1 (ready()) ends the reload.
  bool reloading(std::string_view status, std::string* error = nullptr);
  bool stopping(std::string_view status, std::string* error = nullptr);
  bool status(std::string_view status, std::string* error = nullptr);
  bool send(std::string_view message, std::string* error = nullptr);

 private:
  std::string path_;
};

// The lines of one message, for tests: "READY=1\nSTATUS=...".
std::string notify_message(std::string_view state, std::string_view status,
                           uint64_t monotonic_usec = 0);

}  // namespace dnspc::runtime
