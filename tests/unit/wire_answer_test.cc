// answer_rcode on answers built by dnspython-like hand assembly: header rcode,
// the OPT record's extended rcode behind compressed names, and truncated input.
#include <catch2/catch.hpp>

#include <vector>

#include "dnspc/wire.h"

using namespace dnspc;

namespace {

std::vector<uint8_t> answer(uint8_t rcode, uint16_t ancount, bool opt, uint8_t ext) {
  std::vector<uint8_t> a = {0x12, 0x34, 0x81, static_cast<uint8_t>(0x80 | rcode), 0, 1, 0,
                            static_cast<uint8_t>(ancount), 0, 0, 0, static_cast<uint8_t>(opt ? 1 : 0)};
  const uint8_t q[] = {3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
  a.insert(a.end(), q, q + sizeof q);
  for (uint16_t i = 0; i < ancount; ++i) {
    const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, static_cast<uint8_t>(i)};
    a.insert(a.end(), rr, rr + sizeof rr);
  }
  if (opt) {
    const uint8_t o[] = {0, 0, 41, 4, 0xd0, ext, 0, 0x80, 0, 0, 0};
    a.insert(a.end(), o, o + sizeof o);
  }
  return a;
}

}  // namespace

TEST_CASE("answer_rcode reads the header and the OPT record's extension") {
  auto a = answer(rcode::kNxDomain, 0, false, 0);
  CHECK(answer_rcode(a.data(), a.size()) == 3);
  a = answer(rcode::kServFail, 2, true, 0);
  CHECK(answer_rcode(a.data(), a.size()) == 2);
  a = answer(0, 3, true, 1);  // BADVERS: extended 1, header 0
  CHECK(answer_rcode(a.data(), a.size()) == rcode::kBadVers);
  // Cut anywhere: never more than the header says, never a read past the end.
  for (size_t n = 0; n < a.size(); ++n) {
    uint16_t rc = answer_rcode(a.data(), n);
    CHECK((rc == 0 || rc == rcode::kBadVers));
  }
  CHECK(answer_rcode(a.data(), 11) == 0);
}
