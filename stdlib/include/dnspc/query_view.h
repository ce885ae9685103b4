// The packet view: what the runtime parses once per query and what compiled
// policy code reads. Its layout is a contract with generated code (fields are
// read at offsetof() positions), so it is plain data, fixed-size, with no
// pointers into anything but the packet itself. See docs/architecture.md.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dnspc/net_address.h"

namespace dnspc {

enum class Transport : uint8_t { kUdp = 0, kTcp = 1 };

// Header flag bits as they sit in the second 16-bit word of the header.
namespace header_bits {
constexpr uint16_t kQR = 0x8000;
constexpr uint16_t kAA = 0x0400;
constexpr uint16_t kTC = 0x0200;
constexpr uint16_t kRD = 0x0100;
constexpr uint16_t kRA = 0x0080;
constexpr uint16_t kZ = 0x0040;
constexpr uint16_t kAD = 0x0020;
constexpr uint16_t kCD = 0x0010;
constexpr unsigned kOpcodeShift = 11;
constexpr uint16_t kOpcodeMask = 0x7800;
constexpr uint16_t kRcodeMask = 0x000f;
}  // namespace header_bits

constexpr unsigned kHeaderSize = 12;
constexpr unsigned kMaxNameLength = 255;  // wire form, root byte included
constexpr unsigned kMaxLabels = 127;      // 255 bytes hold at most 127 one-byte labels + root
constexpr unsigned kMaxRecordedEdnsOptions = 8;
constexpr uint16_t kEdnsOptionEcs = 8;

struct QueryView {
  // The client's packet, untouched: answers copy the client's name case from here.
  const uint8_t* packet = nullptr;
  uint16_t size = 0;

  // Header.
  uint16_t id = 0;
  uint16_t flags = 0;  // the raw flags word; see header_bits
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  uint8_t opcode = 0;
  uint8_t rcode = 0;

  Transport transport = Transport::kUdp;

  // EDNS (OPT record), all zero when absent.
  uint8_t edns_present = 0;
  uint8_t edns_version = 0;
  uint8_t edns_do = 0;
  uint8_t edns_option_count = 0;  // options in the OPT record, may exceed what is recorded
  uint16_t edns_payload = 0;      // requested UDP payload size
  uint16_t edns_options[kMaxRecordedEdnsOptions]{};  // first option codes, in order
  uint64_t edns_option_bits = 0;  // bit c set when an option with code c < 64 is present (any position)

  // EDNS Client Subnet, when the client sent one.
  uint8_t ecs_present = 0;
  uint8_t ecs_source_prefix = 0;
  uint8_t ecs_scope_prefix = 0;
  AddressFamily ecs_family = AddressFamily::kNone;
  uint8_t ecs_address[16]{};

  // Question.
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint16_t question_end = 0;  // offset just past QCLASS
  uint16_t opt_offset = 0;    // offset of the OPT record's owner name; 0 when absent
  uint16_t trailing = 0;      // bytes after the last record the counts announce

  // The question name in wire form, lower-cased (ASCII only), root byte
  // included. label_offsets[i] is the position of label i's length byte,
  // leftmost label first, so the suffix made of labels i.. starts there;
  // label_offsets[label_count] is the root byte (the suffix ".").
  // The regex text form is this name with every length byte after the
  // first shown as '.', i.e. "www.example.com."; the root name is ".".
  uint8_t qname_length = 0;
  uint8_t label_count = 0;
  // Some label holds a '.' byte, so the text form's dots and the wire form's
  // labels disagree; suffix-based prefilters of regexes must not be trusted.
  uint8_t dot_in_label = 0;
  uint8_t label_offsets[kMaxLabels + 1]{};
  uint8_t qname_lower[kMaxNameLength + 1]{};

  // Addresses, filled by the runtime (or `dnspc test`), not by the codec.
  NetAddress source;
  NetAddress destination;

  bool has_flag(uint16_t bit) const { return (flags & bit) != 0; }
};

}  // namespace dnspc
