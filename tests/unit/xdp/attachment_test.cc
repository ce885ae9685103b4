// Attaching to a veth in a namespace of our own: real packets through the
// program, an atomic replace under traffic, and programs that are not ours
// left alone.
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/socket.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "bpf_fixtures.h"
#include "dnspc/runtime/xdp.h"
#include "netns_fixture.h"

using namespace dnspc::xdp;
using namespace xdp_fixtures;

namespace {

std::unique_ptr<Map> counter(const char* name) {
  std::string error;
  auto map = Map::create({MapType::percpu_array, 4, 8, 1, name}, error);
  INFO(error);
  REQUIRE(map);
  return map;
}

std::unique_ptr<Program> counting(const Map& counters, int verdict, const char* name) {
  std::string error;
  auto program = Program::load(count_then(counters.fd(), verdict), name, error);
  INFO(error);
  REQUIRE(program);
  return program;
}

// A UDP socket in namespace `ns`, bound to `port` there if non-zero.
int udp_socket_in(const std::string& ns, uint16_t port = 0) {
  Inside inside(ns);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  REQUIRE(fd >= 0);
  if (port != 0) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  return fd;
}

// Sends `count` datagrams from a's socket to b; each one is handled before
// sendto returns (veth delivers in the sender's softirq), but a full queue
// is retried rather than counted.
void send_to_b(int fd, int count) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(5353);
  inet_pton(AF_INET, "10.201.0.2", &to.sin_addr);
  const char payload[] = "dnspc";
  for (int sent = 0; sent < count;) {
    if (sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
        sizeof payload) {
      ++sent;
    } else {
      std::this_thread::yield();
    }
  }
}

int drain(int fd) {
  char buffer[64];
  int n = 0;
  while (recv(fd, buffer, sizeof buffer, 0) > 0) ++n;
  return n;
}

uint32_t attached_in_mode(const std::string& interface, uint32_t mode) {
  uint32_t id = 0;
  bpf_xdp_query_id(static_cast<int>(if_nametoindex(interface.c_str())), static_cast<int>(mode),
                   &id);
  return id;
}

}  // namespace

TEST_CASE("attach, replace under traffic, detach: every packet meets exactly one program") {
  VethPair veth;
  auto first_counts = counter("first");
  auto second_counts = counter("second");
  auto dropped_counts = counter("dropped");
  auto first = counting(*first_counts, XDP_PASS, "test_first");
  auto second = counting(*second_counts, XDP_PASS, "test_second");
  auto dropping = counting(*dropped_counts, XDP_DROP, "test_drop");
  int sender = udp_socket_in(veth.a);
  int receiver = udp_socket_in(veth.b, 5353);

  Inside inside(veth.b);
  std::string error;
  {
    auto attachment = Attachment::attach("dnspc_b", Mode::generic, *first, error);
    INFO(error);
    REQUIRE(attachment);
    CHECK(attachment->program_id() == first->id());
    CHECK(attached_in_mode("dnspc_b", XDP_FLAGS_SKB_MODE) == first->id());

    send_to_b(sender, 50);
    CHECK(first_counts->sum_u64(0) == 50);
    CHECK(drain(receiver) == 50);  // passed up to the socket

    REQUIRE(attachment->replace(*dropping, error));
    send_to_b(sender, 50);
    CHECK(dropped_counts->sum_u64(0) == 50);
    CHECK(drain(receiver) == 0);  // dropped before the socket layer

    // Replace back and forth while another thread sends: the counts of the
    // two programs add up to what was sent, so no packet met no program.
    REQUIRE(attachment->replace(*first, error));
    std::atomic<bool> done{false};
    std::thread traffic([&] {
      send_to_b(sender, 20'000);
      done = true;
    });
    int swaps = 0;
    while (!done) {
      REQUIRE(attachment->replace(swaps % 2 ? *first : *second, error));
      ++swaps;
    }
    traffic.join();
    drain(receiver);
    INFO("replaced " << swaps << " times");
    CHECK(swaps > 1);
    CHECK(*first_counts->sum_u64(0) + *second_counts->sum_u64(0) == 50 + 20'000);
    CHECK(*second_counts->sum_u64(0) > 0);
  }
  // The attachment is gone: so is the program from the interface.
  CHECK(attached_in_mode("dnspc_b", XDP_FLAGS_SKB_MODE) == 0);
  send_to_b(sender, 10);
  CHECK(drain(receiver) == 10);
  close(sender);
  close(receiver);
}

TEST_CASE("native mode on a veth, and on a driver without it the advice to use generic") {
  VethPair veth;
  Inside inside(veth.b);
  std::string error;
  auto pass_counts = counter("pass");
  auto program = counting(*pass_counts, XDP_PASS, "test_native");
  {
    auto attachment = Attachment::attach("dnspc_b", Mode::native, *program, error);
    INFO(error);
    REQUIRE(attachment);
    CHECK(attached_in_mode("dnspc_b", XDP_FLAGS_DRV_MODE) == program->id());
  }
  CHECK(attached_in_mode("dnspc_b", XDP_FLAGS_DRV_MODE) == 0);

  CHECK_FALSE(Attachment::attach("lo", Mode::native, *program, error));
  INFO(error);
  CHECK(error.starts_with("the driver of lo cannot run XDP programs in native mode"));
  CHECK(error.ends_with(": use `mode generic`"));
}

TEST_CASE("an interface that does not exist is named") {
  VethPair veth;
  Inside inside(veth.b);
  auto pass_counts = counter("pass");
  auto program = counting(*pass_counts, XDP_PASS, "test_nowhere");
  std::string error;
  CHECK_FALSE(Attachment::attach("dnspc_nosuch", Mode::generic, *program, error));
  CHECK(error == "interface dnspc_nosuch does not exist (`ip link` lists the interfaces)");
}

TEST_CASE("a program someone else attached is never taken over nor detached") {
  VethPair veth;
  Inside inside(veth.b);
  auto theirs_counts = counter("theirs");
  auto ours_counts = counter("ours");
  auto theirs = counting(*theirs_counts, XDP_PASS, "test_theirs");
  auto ours = counting(*ours_counts, XDP_PASS, "test_ours");
  auto next = counting(*ours_counts, XDP_PASS, "test_next");
  int ifindex = static_cast<int>(if_nametoindex("dnspc_b"));
  std::string error;

  SECTION("theirs first: we refuse to attach") {
    REQUIRE(bpf_xdp_attach(ifindex, theirs->fd(), XDP_FLAGS_SKB_MODE, nullptr) == 0);
    CHECK_FALSE(Attachment::attach("dnspc_b", Mode::generic, *ours, error));
    CHECK(error.starts_with("interface dnspc_b already has an XDP program (id " +
                            std::to_string(theirs->id()) + ") that dnspc did not attach"));
    // In the other mode too: one program per interface.
    CHECK_FALSE(Attachment::attach("dnspc_b", Mode::native, *ours, error));
    CHECK(error.starts_with("interface dnspc_b already has an XDP program"));
    CHECK(attached_in_mode("dnspc_b", XDP_FLAGS_SKB_MODE) == theirs->id());
  }
  SECTION("theirs replaces ours: our replace fails, our detach leaves theirs") {
    {
      auto attachment = Attachment::attach("dnspc_b", Mode::generic, *ours, error);
      REQUIRE(attachment);
      REQUIRE(bpf_xdp_attach(ifindex, theirs->fd(), XDP_FLAGS_SKB_MODE, nullptr) == 0);
      CHECK_FALSE(attachment->replace(*next, error));
      CHECK(error == "the XDP program on dnspc_b is no longer the one dnspc attached (now: id " +
                         std::to_string(theirs->id()) + "); dnspc leaves it");
    }
    CHECK(attached_in_mode("dnspc_b", XDP_FLAGS_SKB_MODE) == theirs->id());
  }
  bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, nullptr);
}
