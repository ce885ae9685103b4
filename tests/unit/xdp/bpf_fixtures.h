// Tiny XDP programs for the loader's tests, written with the kernel's
// instruction encoding (struct bpf_insn). Fixtures only: the product's
// programs come from the compiler, never by hand.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace xdp_fixtures {

inline uint64_t insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  uint64_t word;
  std::memcpy(&word, &i, sizeof word);
  return word;
}

inline uint64_t mov_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
inline uint64_t mov_reg(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
inline uint64_t add_imm(uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
}
inline uint64_t exit_insn() {
  return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// dst = the map whose descriptor is `fd` (two instruction slots).
inline void ld_map_fd(std::vector<uint64_t>& out, uint8_t dst, int fd) {
  out.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd));
  out.push_back(insn(0, 0, 0, 0, 0));
}

// r0 = a pointer to element 0 of the map `fd` (or 0): the key on the stack.
inline void lookup_first(std::vector<uint64_t>& out, int fd) {
  ld_map_fd(out, BPF_REG_1, fd);
  out.push_back(insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0));
  out.push_back(mov_reg(BPF_REG_2, BPF_REG_10));
  out.push_back(add_imm(BPF_REG_2, -4));
  out.push_back(insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
}

// return XDP_PASS
inline std::vector<uint64_t> pass() {
  return {mov_imm(BPF_REG_0, XDP_PASS), exit_insn()};
}

// return array[0] (a uint32_t verdict), XDP_ABORTED if the lookup fails.
inline std::vector<uint64_t> verdict_from(int array_fd) {
  std::vector<uint64_t> out;
  lookup_first(out, array_fd);
  out.push_back(insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 0));
  out.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_0, 0, 0));
  out.push_back(exit_insn());
  out.push_back(mov_imm(BPF_REG_0, XDP_ABORTED));
  out.push_back(exit_insn());
  return out;
}

// counters[0] += 1 (a per-CPU uint64_t), then return `verdict`.
inline std::vector<uint64_t> count_then(int percpu_fd, int32_t verdict) {
  std::vector<uint64_t> out;
  lookup_first(out, percpu_fd);
  out.push_back(insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 3, 0));
  out.push_back(insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_0, 0, 0));
  out.push_back(add_imm(BPF_REG_1, 1));
  out.push_back(insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_1, 0, 0));
  out.push_back(mov_imm(BPF_REG_0, verdict));
  out.push_back(exit_insn());
  return out;
}

// Reads r2, which nothing wrote: the verifier says "R2 !read_ok".
inline std::vector<uint64_t> reads_uninitialised(size_t padding = 0) {
  std::vector<uint64_t> out(padding, mov_imm(BPF_REG_0, 0));
  out.push_back(mov_reg(BPF_REG_0, BPF_REG_2));
  out.push_back(exit_insn());
  return out;
}

// A minimal Ethernet + IPv4 + UDP frame: what the tests feed test_run.
inline std::vector<uint8_t> udp_frame() {
  std::vector<uint8_t> frame = {
      0x02, 0,    0,   0,  0, 2,  0x02, 0, 0,  0,  0, 1, 0x08, 0x00,                     // Ethernet
      0x45, 0,    0,   32, 0, 1,  0,    0, 64, 17, 0, 0, 10,   0,    0, 1, 10, 0, 0, 2,  // IPv4
      0x30, 0x39, 0,   53, 0, 12, 0,    0,                                               // UDP
      'd',  'n',  's', 'p'};
  return frame;
}

}  // namespace xdp_fixtures
