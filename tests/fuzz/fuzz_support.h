// What the fuzz targets share: a failed expectation stops the run, and the
// packet targets' input layout (a control byte, the query's length, the
// query, then the rest).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace fuzz_support {

// libFuzzer reports an abort with the input that caused it.
inline void check(bool ok) {
  if (!ok) std::abort();
}

struct QueryInput {
  uint8_t control = 0;         // bits the target reads as options
  std::vector<uint8_t> query;  // an exact-size copy: ASan sees a read past it
  const uint8_t* rest = nullptr;
  size_t rest_size = 0;
};

// False when the input is too short for its own layout.
inline bool split_query_input(const uint8_t* data, size_t size, QueryInput& out) {
  if (size < 3) return false;
  out.control = data[0];
  const size_t qlen = static_cast<size_t>(data[1]) << 8 | data[2];
  data += 3;
  size -= 3;
  if (qlen > size) return false;
  out.query.assign(data, data + qlen);
  out.rest = data + qlen;
  out.rest_size = size - qlen;
  return true;
}

}  // namespace fuzz_support
