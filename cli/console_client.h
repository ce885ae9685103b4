// The client's side of the console protocol over a blocking TCP socket
// (docs/console.md): connect, the handshake, then one request at a time.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/runtime/console_protocol.h"

namespace dnspc::cli {

class ConsoleClient {
 public:
  ConsoleClient() = default;
  ~ConsoleClient();
  ConsoleClient(const ConsoleClient&) = delete;
  ConsoleClient& operator=(const ConsoleClient&) = delete;

  // Connects and shakes hands; false with `error` saying what failed
  // (unreachable, refused, a server without our key).
  bool open(const NetAddress& server, const runtime::console::Key& key, std::string& error);

  struct Answer {
    bool ok = false;      // the line ran without a Lua error
    bool broken = false;  // the connection failed: `error` says how
    std::string error;
  };
  // Runs one line; `output` gets each piece of its answer as it comes.
  Answer run(std::string_view code, bool json, const std::function<void(std::string_view)>& output);
  // The completion candidates for the text before the cursor.
  std::optional<std::vector<std::string>> complete(std::string_view before_cursor,
                                                   std::string& error);

 private:
  bool send(std::string_view message, std::string& error);
  bool receive(std::string& message, std::string& error);
  bool read_exact(void* to, size_t n, int timeout_ms, std::string& error);

  int fd_ = -1;
  std::optional<runtime::console::FrameSealer> sealer_;
  std::optional<runtime::console::FrameOpener> opener_;
};

}  // namespace dnspc::cli
