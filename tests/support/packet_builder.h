// Hand-made DNS packets for tests: every byte explicit, so a test can build
// exactly the malformation it is about.
#pragma once

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dnspc::testing {

class PacketBuilder {
 public:
  PacketBuilder& u8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  PacketBuilder& u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  PacketBuilder& u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v)); }
  PacketBuilder& raw(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b);
    return *this;
  }
  PacketBuilder& header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an = 0, uint16_t ns = 0,
                        uint16_t ar = 0) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  // "www.example.com." as length-prefixed labels, no validation on purpose.
  PacketBuilder& name(std::string_view dotted) {
    while (!dotted.empty()) {
      size_t dot = dotted.find('.');
      std::string_view label = dotted.substr(0, dot);
      if (!label.empty()) {
        u8(static_cast<uint8_t>(label.size()));
        for (char c : label) u8(static_cast<uint8_t>(c));
      }
      if (dot == std::string_view::npos) break;
      dotted = dotted.substr(dot + 1);
    }
    return u8(0);
  }
  PacketBuilder& question(std::string_view qname, uint16_t qtype, uint16_t qclass = 1) {
    return name(qname).u16(qtype).u16(qclass);
  }
  // An OPT record with the given payload size, version and DO bit, and raw option bytes.
  PacketBuilder& opt(uint16_t payload, uint8_t version = 0, bool dnssec_ok = false,
                     std::vector<uint8_t> options = {}) {
    u8(0).u16(41).u16(payload).u8(0).u8(version).u8(dnssec_ok ? 0x80 : 0).u8(0);
    u16(static_cast<uint16_t>(options.size()));
    bytes_.insert(bytes_.end(), options.begin(), options.end());
    return *this;
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

// A standard query: RD set, one question, optional EDNS.
inline std::vector<uint8_t> simple_query(std::string_view qname, uint16_t qtype, bool edns = false,
                                         uint16_t id = 0x1234) {
  PacketBuilder b;
  b.header(id, 0x0100, 1, 0, 0, edns ? 1 : 0).question(qname, qtype);
  if (edns) b.opt(1232);
  return b.bytes();
}

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (char c : hex) {
    int n = nibble(c);
    if (n < 0) continue;
    if (hi < 0) {
      hi = n;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | n));
      hi = -1;
    }
  }
  return out;
}

// Reads a fixture from tests/fixtures (DNSPC_FIXTURES is set by CMake).
inline std::vector<uint8_t> fixture_packet(const std::string& name) {
  std::ifstream in(std::string(DNSPC_FIXTURES) + "/" + name);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return from_hex(text);
}

}  // namespace dnspc::testing
