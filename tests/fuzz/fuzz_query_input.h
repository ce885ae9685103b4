// The two targets that start from a client's query (backend_answer,
// packet_cache): the input split as fuzz_support.h lays it out, and the
// query parsed over the transport the control byte's bit 0 names (set: TCP).
#pragma once

#include "dnspc/wire.h"
#include "fuzz_support.h"

namespace fuzz_support {

// False when the input is too short for its layout or the query does not
// parse (nothing to answer then). `view` points into `in.query`.
inline bool parse_query_input(const uint8_t* data, size_t size, QueryInput& in, dnspc::QueryView& view) {
  using namespace dnspc;
  if (!split_query_input(data, size, in)) return false;
  const Transport t = (in.control & 1) ? Transport::kTcp : Transport::kUdp;
  return parse_query(in.query.data(), in.query.size(), t, view) == ParseError::kOk;
}

}  // namespace fuzz_support
