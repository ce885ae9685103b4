#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "dnspc/runtime/service_notify.h"

using dnspc::runtime::notify_message;
using dnspc::runtime::ServiceNotifier;

namespace {

// A datagram socket bound where systemd's would be; name "@x" binds abstract.
struct Listener {
  int fd = -1;
  std::string name;
  explicit Listener(std::string n) : name(std::move(n)) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, name.data(), name.size());
    if (name[0] == '@') a.sun_path[0] = '\0';
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
  }
  ~Listener() {
    ::close(fd);
    if (name[0] == '/') ::unlink(name.c_str());
  }
  std::string receive() {
    char buf[1024];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
  }
};

}  // namespace

TEST_CASE("notify: the lines of a message") {
  CHECK(notify_message("READY=1", "") == "READY=1");
  CHECK(notify_message("READY=1", "serving") == "READY=1\nSTATUS=serving");
  CHECK(notify_message("RELOADING=1", "x", 42) == "RELOADING=1\nMONOTONIC_USEC=42\nSTATUS=x");
  // A newline in a status would be read by systemd as a key of its own.
  CHECK(notify_message("", "a\nMAINPID=1") == "STATUS=a MAINPID=1");
}

TEST_CASE("notify: READY, RELOADING and STOPPING reach a path socket") {
  std::string path = "/tmp/dnspc-notify-test-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  Listener l(path);
  ServiceNotifier n(path);
  REQUIRE(n.active());
  std::string error;
  REQUIRE(n.ready("serving", &error));
  CHECK(l.receive() == "READY=1\nSTATUS=serving");
  REQUIRE(n.reloading("reloading"));
  std::string r = l.receive();
  CHECK(r.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  // The timestamp is CLOCK_MONOTONIC in microseconds: near ours.
  size_t at = r.find('=', 12) + 1;
  uint64_t usec = std::stoull(r.substr(at, r.find('\n', at) - at));
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t now =
      static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  CHECK(usec <= now);
  CHECK(now - usec < 10'000'000u);
  REQUIRE(n.stopping(""));
  CHECK(l.receive() == "STOPPING=1");
}

TEST_CASE("notify: an abstract socket, and no socket") {
  std::string name = "@dnspc-notify-test-" + std::to_string(::getpid());
  Listener l(name);
  ServiceNotifier n(name);
  REQUIRE(n.status("up"));
  CHECK(l.receive() == "STATUS=up");

  ServiceNotifier none;
  CHECK_FALSE(none.active());
  CHECK_FALSE(none.ready("x"));

  std::string error;
  CHECK_FALSE(ServiceNotifier("relative/path").ready("x", &error));
  CHECK(error.find("NOTIFY_SOCKET") != std::string::npos);
  CHECK_FALSE(ServiceNotifier("/nonexistent/dnspc-notify").ready("x", &error));
  CHECK(error.find("/nonexistent/dnspc-notify") != std::string::npos);
}

TEST_CASE("notify: from the environment, which it then clears") {
  ::setenv("NOTIFY_SOCKET", "@dnspc-env-test", 1);
  ServiceNotifier n = ServiceNotifier::from_environment();
  CHECK(n.active());
  CHECK(std::getenv("NOTIFY_SOCKET") == nullptr);
  CHECK_FALSE(ServiceNotifier::from_environment().active());
}
