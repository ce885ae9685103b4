// The client side of the control socket (`dnspc ctl`): one command, one JSON
// answer, then the server closes.
#pragma once

#include <optional>
#include <string>

namespace dnspc::runtime {

// Sends `command` to the control socket at `path` and returns the answer, or
// nullopt with `error` set. Bounded by `timeout_ms` overall.
std::optional<std::string> control_request(const std::string& path, const std::string& command,
                                           std::string& error, unsigned timeout_ms = 5000);

}  // namespace dnspc::runtime
