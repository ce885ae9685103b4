// The user-space half of the kernel fast path's hand-over (docs/xdp.md,
// "Runtime"). The XDP program passes up a query it evaluated without a
// decision with the DNS header's Z bit set, and clears the bit on any query
// it passes up unevaluated, so a query that came in on the program's
// interface carries the program's word, never the client's. Queries from
// other interfaces keep their bits and are evaluated from the first rule.
#include <netinet/in.h>
#include <sys/socket.h>

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

uint32_t Worker::kernel_first_rule(uint8_t* packet, size_t size, const msghdr& header) {
  const ActivePolicy& p = *policy_;
  if (size < kHeaderSize || !(packet[3] & kZInLowByte)) return 0;
  if (arrival_ifindex(header) != p.kernel_ifindex) return 0;  // not through the program: the client's own bit
  packet[3] &= static_cast<uint8_t>(~kZInLowByte);  // the mark is ours: the query goes on as it was sent
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
