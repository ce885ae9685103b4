#include "kernel_harness.h"

#include <cstring>

namespace dnspc::testing {

std::unique_ptr<KernelHarness> KernelHarness::load(const ir::Program& program, const kernel::KernelPrefix& prefix,
                                                   uint64_t seed, std::string& error) {
  std::unique_ptr<KernelHarness> h(new KernelHarness);
  h->tables_ = bpf::build_tables(program, prefix, seed);
  h->tables_.acl4.push_back({0, {}});  // every source
  h->tables_.acl6.push_back({0, {}});
  h->maps_ = xdp::KernelMaps::create(h->tables_, error);
  if (!h->maps_) return nullptr;
  // Every test frame goes to port 53 of any address.
  for (const char* any : {"0.0.0.0", "::"}) {
    if (!h->maps_->add_listener(*NetAddress::parse(any, 53), error)) {
      return nullptr;
    }
  }
  if (!bpf::generate(program, prefix, h->tables_, h->maps_->fds(), h->code_, error)) return nullptr;
  xdp::Program::Functions functions{h->code_.btf, h->code_.subprograms, bpf::kFirstFunctionType};
  h->program_ = xdp::Program::load(h->code_.instructions, "dnspc_xdp", functions, error);
  if (!h->program_) return nullptr;
  return h;
}

KernelHarness::Result KernelHarness::run(const std::vector<uint8_t>& frame) {
  xdp::TestRun run = program_->test_run(frame);
  Result r;
  r.action = run.error.empty() ? run.retval : UINT32_MAX;
  r.frame = std::move(run.output);
  return r;
}

std::vector<uint8_t> udp_frame(const std::vector<uint8_t>& dns, const NetAddress& source,
                               const NetAddress& destination, uint16_t source_port, uint16_t destination_port) {
  const bool v4 = source.family == AddressFamily::kIPv4;
  std::vector<uint8_t> f(14, 0);
  for (int i = 0; i < 6; ++i) {
    f[i] = static_cast<uint8_t>(0x02 + i);      // destination MAC
    f[6 + i] = static_cast<uint8_t>(0x12 + i);  // source MAC
  }
  f[12] = v4 ? 0x08 : 0x86;
  f[13] = v4 ? 0x00 : 0xdd;
  const size_t udp_len = 8 + dns.size();
  if (v4) {
    uint8_t ip[20] = {0x45, 0, static_cast<uint8_t>((20 + udp_len) >> 8), static_cast<uint8_t>(20 + udp_len),
                      0x12, 0x34, 0x40, 0, 64, 17};
    std::memcpy(ip + 12, source.bytes, 4);
    std::memcpy(ip + 16, destination.bytes, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += ip[i] << 8 | ip[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = static_cast<uint8_t>(~sum >> 8);
    ip[11] = static_cast<uint8_t>(~sum);
    f.insert(f.end(), ip, ip + 20);
  } else {
    uint8_t ip[40] = {0x60, 0, 0, 0, static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len), 17, 64};
    std::memcpy(ip + 8, source.bytes, 16);
    std::memcpy(ip + 24, destination.bytes, 16);
    f.insert(f.end(), ip, ip + 40);
  }
  uint8_t udp[8] = {static_cast<uint8_t>(source_port >> 8), static_cast<uint8_t>(source_port),
                    static_cast<uint8_t>(destination_port >> 8), static_cast<uint8_t>(destination_port),
                    static_cast<uint8_t>(udp_len >> 8), static_cast<uint8_t>(udp_len), 0, 0};
  f.insert(f.end(), udp, udp + 8);
  f.insert(f.end(), dns.begin(), dns.end());
  // The UDP checksum over the pseudo-header, the header and the message.
  const size_t l4 = v4 ? 34 : 54;
  uint32_t sum = 17 + static_cast<uint32_t>(udp_len);
  auto add = [&](const uint8_t* p, size_t n) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += p[i] << 8 | p[i + 1];
    if (n & 1) sum += p[n - 1] << 8;
  };
  add(f.data() + (v4 ? 26 : 22), v4 ? 8 : 32);
  add(f.data() + l4, udp_len);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t check = static_cast<uint16_t>(~sum);
  if (check == 0) check = 0xffff;
  f[l4 + 6] = static_cast<uint8_t>(check >> 8);
  f[l4 + 7] = static_cast<uint8_t>(check);
  return f;
}

}  // namespace dnspc::testing
