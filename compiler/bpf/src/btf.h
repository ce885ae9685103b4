// Minimal BTF for the program's subprograms (private to dnspc_bpf).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dnspc/bpf/kernel_code.h"

namespace dnspc::bpf {

// Type ids: 4 + i is subprogram i's FUNC.
constexpr uint32_t kFirstFuncType = kFirstFunctionType;
std::vector<uint8_t> subprogram_btf(size_t subprograms);

}  // namespace dnspc::bpf
