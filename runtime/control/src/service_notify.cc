#include "dnspc/runtime/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace dnspc::runtime {

namespace {

uint64_t monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// STATUS is one line: a newline would start a line systemd reads as a key.
std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

std::string notify_message(std::string_view state, std::string_view status, uint64_t usec) {
  std::string m(state);
  if (usec != 0) m += "\nMONOTONIC_USEC=" + std::to_string(usec);
  if (!status.empty()) {
    if (!m.empty()) m += '\n';
    m += "STATUS=" + one_line(status);
  }
  return m;
}

ServiceNotifier ServiceNotifier::from_environment() {
  const char* p = std::getenv("NOTIFY_SOCKET");
  std::string path = p ? p : "";
  if (p) unsetenv("NOTIFY_SOCKET");
  return ServiceNotifier(std::move(path));
}

bool ServiceNotifier::ready(std::string_view status, std::string* error) {
  return send(notify_message("READY=1", status), error);
}

bool ServiceNotifier::reloading(std::string_view status, std::string* error) {
  return send(notify_message("RELOADING=1", status, monotonic_usec()), error);
}

bool ServiceNotifier::stopping(std::string_view status, std::string* error) {
  return send(notify_message("STOPPING=1", status), error);
}

bool ServiceNotifier::status(std::string_view status, std::string* error) {
  return send(notify_message("", status), error);
}

bool ServiceNotifier::send(std::string_view message, std::string* error) {
  if (path_.empty()) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // '@' is systemd's spelling of the abstract namespace (a leading NUL).
  if (path_.size() >= sizeof(addr.sun_path) || (path_[0] != '/' && path_[0] != '@')) {
    if (error) *error = "NOTIFY_SOCKET is neither an absolute path nor @name: " + path_;
    return false;
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (path_[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  ssize_t n = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(message.size())) {
    if (error) *error = "sending to " + path_ + ": " + std::strerror(err);
    return false;
  }
  return true;
}

}  // namespace dnspc::runtime
