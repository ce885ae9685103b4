// Facts about a backend's answer that response rules read.
#include "dnspc/wire.h"
#include "wire_bytes.h"

namespace dnspc {

using namespace wire_detail;

namespace {

// Skips a possibly compressed name; false when it runs past the end.
bool skip_name(const uint8_t* a, size_t n, size_t& off) {
  for (unsigned labels = 0; labels < 128; ++labels) {
    if (off >= n) return false;
    uint8_t len = a[off];
    if (len == 0) {
      off += 1;
      return true;
    }
    if ((len & 0xc0) == 0xc0) {  // a pointer ends the name
      if (off + 2 > n) return false;
      off += 2;
      return true;
    }
    if (len & 0xc0) return false;
    off += 1u + len;
  }
  return false;
}

}  // namespace

uint16_t answer_rcode(const uint8_t* a, size_t n) {
  if (n < kHeaderSize) return 0;
  uint16_t rc = a[3] & 0x0f;
  const unsigned qd = get16(a + 4), an = get16(a + 6), ns = get16(a + 8), ar = get16(a + 10);
  size_t off = kHeaderSize;
  for (unsigned i = 0; i < qd; ++i) {
    if (!skip_name(a, n, off) || n - off < 4) return rc;
    off += 4;
  }
  for (unsigned i = 0; i < an + ns + ar; ++i) {
    if (!skip_name(a, n, off) || n - off < 10) return rc;
    const uint16_t type = get16(a + off);
    const uint16_t rdlength = get16(a + off + 8);
    if (i >= an + ns && type == qtype::kOPT) {
      // The OPT record's TTL carries the upper 8 bits of the rcode.
      return static_cast<uint16_t>(rc | (a[off + 4] << 4));
    }
    off += 10;
    if (n - off < rdlength) return rc;
    off += rdlength;
  }
  return rc;
}

}  // namespace dnspc
