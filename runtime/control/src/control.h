// The control socket: a Unix stream socket (mode 0600) on the main loop. A
// client sends one command line ("stats", "servers", "reload [PATH]"), gets
// one JSON document and a newline back, and the server closes the connection.
// The answer may come later (a reload answers once the new policy runs): the
// handler gets a Reply to call once, on the loop; the client's 5 s read
// timeout stops once its command has arrived.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>

namespace dnspc::runtime {

class ControlServer {
 public:
  using Reply = std::function<void(std::string answer)>;
  using Handler = std::function<void(std::string_view command, Reply reply)>;

  ControlServer(uv_loop_t* loop, Handler handler);
  // Binds and listens; removes a stale socket first but refuses to take over
  // one that a live process still answers on.
  bool start(const std::string& path, std::string& error);
  // Stops listening and removes the socket file.
  void stop();
  const std::string& path() const { return path_; }

  // libuv callbacks.
  void on_connection();
  Handler& handler() { return handler_; }

 private:
  uv_loop_t* loop_;
  Handler handler_;
  uv_pipe_t server_;
  std::string path_;
  bool listening_ = false;
};

}  // namespace dnspc::runtime
