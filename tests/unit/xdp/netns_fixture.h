// Two network namespaces joined by a veth pair, for attaching XDP programs
// to an interface no one else uses: `a` holds veth `dnspc_a` (10.201.0.1),
// `b` holds `dnspc_b` (10.201.0.2). No IPv6 and a static neighbour, so the
// only packets on the link are the ones a test sends. Removed on the way
// out, whatever happened.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace xdp_fixtures {

// Runs argv, quietly; its exit status.
inline int run(std::vector<std::string> argv) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Exits 77, the CTest skip code, after saying why (see main.cc).
[[noreturn]] inline void skip(const std::string& why) {
  std::printf("SKIPPED: %s\n", why.c_str());
  std::fflush(stdout);
  std::_Exit(77);
}

// The calling thread inside a namespace until the guard goes; sockets and
// netlink requests made meanwhile belong to it.
class Inside {
 public:
  explicit Inside(const std::string& ns) : home_(open("/proc/thread-self/ns/net", O_RDONLY)) {
    int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(setns(fd, CLONE_NEWNET) == 0);
    close(fd);
  }
  ~Inside() {
    setns(home_, CLONE_NEWNET);
    close(home_);
  }
  Inside(const Inside&) = delete;
  Inside& operator=(const Inside&) = delete;

 private:
  int home_;
};

class VethPair {
  // First member: when the constructor fails half-way, this still runs.
  // Deleting a namespace deletes its veth end, and with it the pair.
  struct Namespaces {
    std::vector<std::string> names;
    ~Namespaces() {
      for (const auto& ns : names) run({"ip", "netns", "del", ns});
    }
  } namespaces_;

 public:
  VethPair() {
    if (run({"ip", "-V"}) != 0) skip("no `ip` command (Debian package iproute2)");
    std::string tag = std::to_string(getpid());
    a = "dnspc-xdp-a-" + tag;
    b = "dnspc-xdp-b-" + tag;
    if (run({"ip", "netns", "add", a}) != 0)
      skip("cannot create a network namespace (ip netns add)");
    namespaces_.names.push_back(a);
    REQUIRE(run({"ip", "netns", "add", b}) == 0);
    namespaces_.names.push_back(b);
    for (const std::string& ns : {a, b}) {
      REQUIRE(run({"ip", "netns", "exec", ns, "sysctl", "-qw",
                   "net.ipv6.conf.all.disable_ipv6=1"}) == 0);
      REQUIRE(run({"ip", "netns", "exec", ns, "sysctl", "-qw",
                   "net.ipv6.conf.default.disable_ipv6=1"}) == 0);
      REQUIRE(run({"ip", "-n", ns, "link", "set", "lo", "up"}) == 0);
    }
    REQUIRE(run({"ip", "-n", a, "link", "add", "dnspc_a", "type", "veth", "peer", "name", "dnspc_b",
                 "netns", b}) == 0);
    REQUIRE(run({"ip", "-n", a, "addr", "add", "10.201.0.1/30", "dev", "dnspc_a"}) == 0);
    REQUIRE(run({"ip", "-n", b, "addr", "add", "10.201.0.2/30", "dev", "dnspc_b"}) == 0);
    REQUIRE(run({"ip", "-n", a, "link", "set", "dnspc_a", "up"}) == 0);
    REQUIRE(run({"ip", "-n", b, "link", "set", "dnspc_b", "up"}) == 0);
    // b's MAC, known in a without ARP.
    REQUIRE(run({"ip", "-n", b, "link", "set", "dnspc_b", "address", "02:00:00:00:02:02"}) == 0);
    REQUIRE(run({"ip", "-n", a, "neigh", "replace", "10.201.0.2", "lladdr", "02:00:00:00:02:02",
                 "dev", "dnspc_a", "nud", "permanent"}) == 0);
  }
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  std::string a, b;
};

}  // namespace xdp_fixtures
