// What the loader's files share about libbpf: errno texts, the kernel's
// object names, and the kernel's own error messages libbpf would otherwise
// print to stderr.
#pragma once

#include <string>
#include <string_view>

namespace dnspc::xdp::detail {

// "EACCES: Permission denied" for 13 (or -13: libbpf returns -errno).
std::string errno_text(int error_number);

// A name the kernel accepts for a map or program: at most 15 characters of
// [A-Za-z0-9_.], the others replaced by '_'.
std::string kernel_object_name(std::string_view name);

// Routes libbpf's messages away from stderr (dnspc prints each problem once,
// in its own words) and keeps the last "Kernel error message" it reported
// on this thread: the netlink extended ack of a refused XDP attach.
void capture_libbpf_messages();
// The kernel's last message on this thread since the last call, then clears it.
std::string take_kernel_message();

}  // namespace dnspc::xdp::detail
