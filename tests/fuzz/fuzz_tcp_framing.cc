// libFuzzer target: the DNS-over-TCP framing reader (FrameReader, the one
// client and backend connections use) fed a byte stream in reads of the
// sizes the input picks, with messages taken or left (a paused connection).
// Checked against a plain model of RFC 7766 framing: the same messages, in
// order, byte for byte; the buffer never past one message, its prefix and
// one read; ends_mid_message and has_prefix/announced agree with the model.
// Input: a byte of read sizes per read, then the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dnspc/runtime/stream_io.h"
#include "fuzz_support.h"

using fuzz_support::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dnspc::runtime::FrameReader;
  if (size < 1) return 0;
  const size_t nsizes = std::min<size_t>(data[0] % 16 + 1, size - 1);
  const uint8_t* sizes = data + 1;
  const uint8_t* stream = data + 1 + nsizes;
  const size_t len = size - 1 - nsizes;

  // The model: every whole message in the stream, in order.
  std::vector<std::pair<size_t, size_t>> model;  // offset, length
  size_t at = 0;
  while (len - at >= 2) {
    const size_t m = static_cast<size_t>(stream[at]) << 8 | stream[at + 1];
    if (len - at - 2 < m) break;
    model.emplace_back(at + 2, m);
    at += 2 + m;
  }

  FrameReader r;
  size_t fed = 0, taken = 0, consumed = 0, round = 0;
  uint8_t* msg = nullptr;
  size_t mlen = 0;
  auto take = [&] {
    check(taken < model.size());
    check(mlen == model[taken].second);
    check(std::memcmp(msg, stream + model[taken].first, mlen) == 0);
    consumed = model[taken].first + mlen;
    ++taken;
  };
  while (fed < len) {
    const uint8_t s = nsizes ? sizes[round % nsizes] : 0;
    ++round;
    // A connection reads only when it has handled what it read before.
    while (r.next(msg, mlen)) take();
    uv_buf_t b = r.space();
    check(b.len > 0);
    // Reads of 1..b.len bytes: small ones split prefixes and messages.
    size_t want =
        (s & 0x3f) == 0 ? b.len : std::min<size_t>(b.len, (s & 0x3f) * ((s & 0x80) ? 1021 : 1));
    want = std::min(want, len - fed);
    std::memcpy(b.base, stream + fed, want);
    r.received(want);
    fed += want;
    // One message with its prefix, and one read.
    check(r.capacity() <= 65537 + 4096);
    // Handle one message (the connection's share then runs out) or all.
    if (s & 0x40) {
      if (r.next(msg, mlen)) take();
    } else {
      while (r.next(msg, mlen)) take();
    }
    // The model's view: where the last whole message read so far ends.
    size_t whole_end = consumed;
    for (size_t k = taken; k < model.size() && model[k].first + model[k].second <= fed; ++k) {
      whole_end = model[k].first + model[k].second;
    }
    check(r.buffered() == fed - consumed);
    check(r.ends_mid_message() == (fed != whole_end));
    check(r.has_prefix() == (fed - consumed >= 2));
    if (r.has_prefix()) {
      check(r.announced() == (static_cast<size_t>(stream[consumed]) << 8 | stream[consumed + 1]));
    }
  }
  while (r.next(msg, mlen)) take();
  check(taken == model.size());
  return 0;
}
