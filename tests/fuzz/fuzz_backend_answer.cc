// libFuzzer target: a backend's answer, any bytes, to a parsed query, through
// what the answer path does before the client gets it: the match
// (answer_matches), the rcode read, the rewrites AnswerStage::deliver makes
// (the client's ID, name case, RD and CD: the same calls, in the same
// order), the cache's copy (prepare_cache_answer) and its serving
// (serve_cache_answer), and the truncation for the client's size limit.
// Input: one control byte, a two-byte query length, the query, the answer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dnspc/cache_wire.h"
#include "dnspc/wire.h"
#include "fuzz_query_input.h"

using fuzz_support::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dnspc;
  fuzz_support::QueryInput in;
  QueryView v;
  if (!fuzz_support::parse_query_input(data, size, in, v)) return 0;
  const uint8_t control = in.control;
  // An exact-size copy, as the query: ASan sees any read past it.
  std::vector<uint8_t> packet(in.rest, in.rest + in.rest_size);
  const size_t n = packet.size();

  answer_rcode(packet.data(), n);
  if (!answer_matches(packet.data(), n, v.id, v)) return 0;

  // AnswerStage::deliver's rewrites.
  const uint16_t client_id = static_cast<uint16_t>(v.id ^ 0x5a5a);
  set_id(packet.data(), client_id);
  if (packet[5] != 0)
    std::memcpy(packet.data() + kHeaderSize, v.packet + kHeaderSize, v.qname_length);
  set_flag(packet.data(), header_bits::kRD, v.has_flag(header_bits::kRD));
  set_flag(packet.data(), header_bits::kCD, v.has_flag(header_bits::kCD));
  // Still the answer to the client's query, under the client's ID.
  check(read_id(packet.data()) == client_id);
  check(answer_matches(packet.data(), n, client_id, v));
  answer_rcode(packet.data(), n);

  // The cache's copy, into an entry of the size the control byte picks.
  static const size_t kEntrySizes[] = {64, 512, 1232, 4096};
  const size_t cap = kEntrySizes[(control >> 1) & 3];
  std::vector<uint8_t> kept(cap);
  CacheTtls ttls;
  ttls.min_ttl = (control & 0x08) ? 60 : 0;
  ttls.servfail_ttl = (control & 0x10) ? 5 : 0;
  const PreparedAnswer p = prepare_cache_answer(packet.data(), n, ttls, kept.data(), kept.size());
  if (p.refusal == CacheRefusal::kNone) {
    check(p.size <= cap && p.size >= kHeaderSize);
    check(read_id(kept.data()) == 0);
    kept.resize(p.size);
    const uint32_t age = (control & 0x20) ? 3600 : 1;
    const bool stale = (control & 0x40) != 0;
    if (serve_cache_answer(kept.data(), kept.size(), v, age, stale)) {
      check(read_id(kept.data()) == v.id);
      check(answer_matches(kept.data(), kept.size(), v.id, v));
    }
  }
  cache_refusal_name(p.refusal);

  // The client's size limit.
  if (n > client_answer_limit(v)) {
    std::vector<uint8_t> out(4096);
    const size_t m = build_truncated_answer(v, out.data(), out.size());
    check(m > 0 && m <= client_answer_limit(v));
    check(answer_matches(out.data(), m, v.id, v));
  }
  return 0;
}
