// libFuzzer target: any byte string through the query parser, and every
// accepted query through the answer builders and the answer matcher, which
// must stay inside their buffers whatever the view says.
#include <array>
#include <cstddef>
#include <cstdint>

#include "dnspc/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dnspc;
  for (Transport t : {Transport::kUdp, Transport::kTcp}) {
    QueryView v;
    if (parse_query(data, size, t, v) != ParseError::kOk) continue;
    std::array<uint8_t, 4096> out;
    char text[256];
    qname_text(v, text, sizeof text);
    build_rcode_answer(v, rcode::kRefused, out.data(), out.size());
    build_truncated_answer(v, out.data(), out.size());
    std::array<uint8_t, 4> a{192, 0, 2, 1};
    std::array<uint8_t, 300> txt{};
    std::array<SpoofRecord, 2> records{SpoofRecord{qtype::kA, 60, a},
                                       SpoofRecord{qtype::kTXT, 60, txt}};
    size_t n = build_spoof_answer(v, records, out.data(), out.size());
    answer_matches(out.data(), n, v.id, v);
    answer_matches(data, size, v.id, v);
  }
  return 0;
}
