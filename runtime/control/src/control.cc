#include "control.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dnspc::runtime {

namespace {

constexpr size_t kMaxCommand = 1024;
constexpr uint64_t kClientTimeoutMs = 5000;

// One connection: read a line, answer, close. Freed when its last handle closes.
struct Client {
  ControlServer* server = nullptr;
  uv_pipe_t pipe;
  uv_timer_t timer;
  uv_write_t write;
  std::string input;
  std::string output;
  int open_handles = 2;
  bool answered = false;
  // Cleared when the connection closes, so a late reply finds it gone.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

void on_close(uv_handle_t* h) {
  auto* c = static_cast<Client*>(h->data);
  if (--c->open_handles == 0) {
    *c->alive = false;
    delete c;
  }
}

void close_client(Client* c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->pipe))) uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe), on_close);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->timer))) uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_close);
}

void send_answer(Client* c, std::string answer);

void answer(Client* c) {
  c->answered = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->pipe));
  std::string command = c->input.substr(0, c->input.find('\n'));
  while (!command.empty() && (command.back() == '\r' || command.back() == ' ')) command.pop_back();
  uv_timer_stop(&c->timer);  // the answer may take a while (a reload)
  c->server->handler()(command, [c, alive = c->alive](std::string answer) {
    if (!*alive || uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->pipe))) return;
    send_answer(c, std::move(answer));
  });
}

void send_answer(Client* c, std::string answer) {
  c->output = std::move(answer);
  c->output += '\n';
  uv_buf_t buf = uv_buf_init(c->output.data(), static_cast<unsigned>(c->output.size()));
  c->write.data = c;
  int r = uv_write(&c->write, reinterpret_cast<uv_stream_t*>(&c->pipe), &buf, 1, [](uv_write_t* w, int) {
    close_client(static_cast<Client*>(w->data));
  });
  if (r != 0) close_client(c);
}

}  // namespace

ControlServer::ControlServer(uv_loop_t* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {}

bool ControlServer::start(const std::string& path, std::string& error) {
  sockaddr_un probe{};
  if (path.size() >= sizeof probe.sun_path) {
    error = "control socket path too long: " + path;
    return false;
  }
  struct stat st{};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = "control socket path exists and is not a socket: " + path;
      return false;
    }
    // A socket someone still answers on belongs to a running instance.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    probe.sun_family = AF_UNIX;
    std::memcpy(probe.sun_path, path.c_str(), path.size() + 1);
    bool live = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&probe), sizeof probe) == 0;
    if (fd >= 0) ::close(fd);
    if (live) {
      error = "another instance answers on the control socket " + path;
      return false;
    }
    ::unlink(path.c_str());
  }
  uv_pipe_init(loop_, &server_, 0);
  server_.data = this;
  // 0600 from the start: no window in which others could connect.
  mode_t old = umask(0177);
  int r = uv_pipe_bind(&server_, path.c_str());
  umask(old);
  if (r == 0) {
    ::chmod(path.c_str(), 0600);
    r = uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 16, [](uv_stream_t* s, int status) {
      if (status == 0) static_cast<ControlServer*>(s->data)->on_connection();
    });
  }
  if (r != 0) {
    error = "control socket " + path + ": " + uv_strerror(r);
    // libuv reports a missing folder as "permission denied": name the fix.
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (::stat(dir.c_str(), &st) != 0) {
      error += "; the folder " + dir + " does not exist: create it or give another path";
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
    return false;
  }
  path_ = path;
  listening_ = true;
  return true;
}

void ControlServer::stop() {
  if (!listening_) return;
  listening_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
  ::unlink(path_.c_str());
}

void ControlServer::on_connection() {
  auto* c = new Client;
  c->server = this;
  uv_pipe_init(loop_, &c->pipe, 0);
  c->pipe.data = c;
  uv_timer_init(loop_, &c->timer);
  c->timer.data = c;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&server_), reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
    close_client(c);
    return;
  }
  uv_timer_start(&c->timer, [](uv_timer_t* t) { close_client(static_cast<Client*>(t->data)); }, kClientTimeoutMs, 0);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->pipe),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static char storage[kMaxCommand];  // the main loop is single-threaded
        *buf = uv_buf_init(storage, sizeof storage);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* cl = static_cast<Client*>(s->data);
        if (cl->answered) return;
        if (n < 0) {
          // EOF without a newline: answer what came, if anything.
          if (n == UV_EOF && !cl->input.empty()) {
            answer(cl);
          } else {
            close_client(cl);
          }
          return;
        }
        cl->input.append(buf->base, static_cast<size_t>(n));
        if (cl->input.find('\n') != std::string::npos || cl->input.size() >= kMaxCommand) answer(cl);
      });
}

}  // namespace dnspc::runtime
