// The user-space half of the kernel fast path's hand-over (docs/xdp.md,
// "The hand-over"). The XDP program passes up a query it evaluated without
// a decision with the DNS header's Z bit set and the process's seal
// appended (kernel_seal.h), and clears the bit on any query it passes up
// unevaluated. Only the bit and the seal together, on a query that arrived
// on the program's interface, are the program's word: a Z bit alone is the
// client's (the query did not pass the program), it stays as sent and the
// query is evaluated from the first rule, as from any other interface.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "dnspc/kernel_seal.h"
#include "dnspc/runtime/active_policy.h"
#include "dnspc/wire.h"
#include "worker.h"

namespace dnspc::runtime {

namespace {

constexpr uint8_t kZInLowByte = header_bits::kZ & 0xff;

int arrival_ifindex(const msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      return info.ipi_ifindex;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      return static_cast<int>(info.ipi6_ifindex);
    }
  }
  return 0;
}

}  // namespace

uint32_t Worker::kernel_first_rule(uint8_t* packet, size_t& size, const msghdr& header) {
  const ActivePolicy& p = *policy_;
  if (size < kHeaderSize + kernel::kSealSize || !(packet[3] & kZInLowByte)) return 0;
  if (arrival_ifindex(header) != p.kernel_ifindex) return 0;  // not through the program: the client's own bit
  const kernel::Seal& seal = kernel::process_seal();
  if (std::memcmp(packet + size - seal.size(), seal.data(), seal.size()) != 0) return 0;  // the client's own bit
  // The mark is ours: the query goes on as it was sent.
  packet[3] &= static_cast<uint8_t>(~kZInLowByte);
  size -= seal.size();
  counters_.kernel_evaluated.add();
  if (now_ns_ < p.kernel_trust_from_ns.load(std::memory_order_acquire)) return 0;
  return p.kernel_rules;
}

void Worker::want_arrival_interface() {
  const int on = 1;
  for (Listener& l : listeners_) {
    if (l.arrival_interface || l.fd < 0) continue;
    l.arrival_interface = true;
    if (l.address.family == AddressFamily::kIPv4) {
      setsockopt(l.fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    } else {
      setsockopt(l.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    }
  }
}

}  // namespace dnspc::runtime
