// Matching backend answers to queries, and the name encoder for text input.
#include "dnspc/wire.h"
#include "wire_bytes.h"

namespace dnspc {

using namespace wire_detail;

bool answer_matches(const uint8_t* a, size_t n, uint16_t id, const QueryView& q) {
  if (n < kHeaderSize) return false;
  if (get16(a) != id) return false;
  uint16_t flags = get16(a + 2);
  if (!(flags & header_bits::kQR)) return false;
  if (get16(a + 4) == 0) {
    // Servers answer what they do not implement (NSD: NOTIFY it does not
    // accept, UPDATE) without the question. Accepted as dnsdist does: only
    // as an error, which carries no data a forger could plant.
    uint8_t rc = flags & header_bits::kRcodeMask;
    return rc != rcode::kNoError && rc != rcode::kNxDomain;
  }
  if (get16(a + 4) != 1) return false;
  // The question must echo ours byte for byte, but for letter case: no
  // compression is allowed there, so a plain walk suffices.
  size_t off = kHeaderSize;
  if (n - off < q.qname_length + 4u) return false;
  for (unsigned i = 0; i < q.qname_length; ++i) {
    if (ascii_lower(a[off + i]) != q.qname_lower[i]) return false;
  }
  off += q.qname_length;
  return get16(a + off) == q.qtype && get16(a + off + 2) == q.qclass;
}

size_t encode_name(std::string_view text, uint8_t* out, size_t cap) {
  if (text == ".") text = "";
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (!text.empty() && text.back() == '.') return 0;  // "example.com.." has an empty label
  size_t len = 0;
  while (!text.empty()) {
    size_t dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63) return 0;
    if (len + 1 + label.size() + 1 > kMaxNameLength || len + 1 + label.size() >= cap) return 0;
    out[len++] = static_cast<uint8_t>(label.size());
    for (char c : label) out[len++] = static_cast<uint8_t>(c);
    text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  }
  if (len >= cap) return 0;
  out[len++] = 0;
  return len;
}

}  // namespace dnspc
