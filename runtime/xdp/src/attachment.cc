// Attaching to an interface: never over someone else's program, replacing
// our own atomically (XDP_FLAGS_REPLACE with the old program's descriptor),
// and detaching only what is still ours.
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>

#include "dnspc/runtime/xdp.h"
#include "libbpf_glue.h"

namespace dnspc::xdp {

namespace {

uint32_t mode_flag(Mode mode) {
  return mode == Mode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

const char* mode_name(Mode mode) {
  return mode == Mode::native ? "native" : "generic";
}

// The id of any XDP program on the interface, in any mode; 0 when none.
uint32_t attached_id(int ifindex) {
  bpf_xdp_query_opts query{};
  query.sz = sizeof query;
  if (bpf_xdp_query(ifindex, 0, &query) != 0) return 0;
  for (uint32_t id : {query.prog_id, query.drv_prog_id, query.skb_prog_id, query.hw_prog_id}) {
    if (id != 0) return id;
  }
  return 0;
}

std::string someone_elses(const std::string& interface, uint32_t id) {
  return fmt::format(
      "interface {} already has an XDP program (id {}) that dnspc did not attach; dnspc will not "
      "replace it (see `bpftool net show dev {}`; `ip link set dev {} xdp off` removes it)",
      interface, id, interface, interface);
}

// The kernel's own words for a refused attach, if it gave any.
std::string kernel_says() {
  std::string message = detail::take_kernel_message();
  return message.empty() ? "" : fmt::format(" (the kernel: {})", message);
}

}  // namespace

Attachment::Attachment(std::string interface, int ifindex, Mode mode, int program_fd,
                       uint32_t program_id)
    : interface_(std::move(interface)),
      ifindex_(ifindex),
      mode_(mode),
      program_fd_(program_fd),
      program_id_(program_id) {}

std::unique_ptr<Attachment> Attachment::attach(const std::string& interface, Mode mode,
                                               const Program& program, std::string& error) {
  detail::capture_libbpf_messages();
  detail::take_kernel_message();
  int ifindex = static_cast<int>(if_nametoindex(interface.c_str()));
  if (ifindex == 0) {
    error = fmt::format("interface {} does not exist (`ip link` lists the interfaces)", interface);
    return nullptr;
  }
  if (uint32_t id = attached_id(ifindex); id != 0) {
    error = someone_elses(interface, id);
    return nullptr;
  }
  int fd = ::dup(program.fd());
  if (fd < 0) {
    error = fmt::format("cannot attach XDP program {} to {}: dup: {}", program.name(), interface,
                        detail::errno_text(errno));
    return nullptr;
  }
  // UPDATE_IF_NOEXIST: a program that arrived since the query above wins.
  int rc = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_UPDATE_IF_NOEXIST | mode_flag(mode), nullptr);
  if (rc == 0) {
    return std::unique_ptr<Attachment>(new Attachment(interface, ifindex, mode, fd, program.id()));
  }
  ::close(fd);
  std::string kernel = kernel_says();
  if (rc == -EBUSY || rc == -EEXIST) {
    error = someone_elses(interface, attached_id(ifindex)) + kernel;
  } else if (rc == -EPERM) {
    error = fmt::format(
        "cannot attach an XDP program to {}: {}: it needs CAP_NET_ADMIN and CAP_BPF (or root)",
        interface, detail::errno_text(rc));
  } else if (rc == -EOPNOTSUPP && mode == Mode::native) {
    error =
        fmt::format("the driver of {} cannot run XDP programs in native mode{}: use `mode generic`",
                    interface, kernel);
  } else {
    error = fmt::format("cannot attach XDP program {} to {} in {} mode: {}{}", program.name(),
                        interface, mode_name(mode), detail::errno_text(rc), kernel);
  }
  return nullptr;
}

bool Attachment::replace(const Program& next, std::string& error) {
  detail::take_kernel_message();
  int fd = ::dup(next.fd());
  if (fd < 0) {
    error = fmt::format("cannot replace the XDP program on {}: dup: {}", interface_,
                        detail::errno_text(errno));
    return false;
  }
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof opts;
  opts.old_prog_fd = program_fd_;  // sets XDP_FLAGS_REPLACE: only if ours is still there
  int rc = bpf_xdp_attach(ifindex_, fd, mode_flag(mode_), &opts);
  if (rc != 0) {
    ::close(fd);
    std::string kernel = kernel_says();
    if (rc == -EEXIST) {
      uint32_t now = attached_id(ifindex_);
      error = fmt::format(
          "the XDP program on {} is no longer the one dnspc attached (now: {}); dnspc leaves it",
          interface_, now == 0 ? std::string("none") : fmt::format("id {}", now));
    } else {
      error = fmt::format("cannot replace the XDP program on {} by {}: {}{}", interface_,
                          next.name(), detail::errno_text(rc), kernel);
    }
    return false;
  }
  ::close(program_fd_);
  program_fd_ = fd;
  program_id_ = next.id();
  return true;
}

Attachment::~Attachment() {
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof opts;
  opts.old_prog_fd = program_fd_;
  // -EEXIST: someone else's program is there now, and stays.
  bpf_xdp_detach(ifindex_, mode_flag(mode_), &opts);
  detail::take_kernel_message();
  ::close(program_fd_);
}

}  // namespace dnspc::xdp
