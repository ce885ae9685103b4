// TCP framing (FrameReader) and the connection limits (TcpAdmission), without
// sockets; the integration test (tests/integration/test_tcp.py) runs them on
// real connections.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "dnspc/runtime/stream_io.h"
#include "dnspc/runtime/tcp_admission.h"

using namespace dnspc;
using namespace dnspc::runtime;

namespace {

// Feeds `bytes` to the reader in pieces of `step`, collecting whole messages.
std::vector<std::vector<uint8_t>> feed(FrameReader& r, const std::vector<uint8_t>& bytes, size_t step) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t off = 0; off < bytes.size();) {
    uv_buf_t b = r.space();
    size_t n = std::min({step, bytes.size() - off, static_cast<size_t>(b.len)});
    std::memcpy(b.base, bytes.data() + off, n);
    r.received(n);
    off += n;
    uint8_t* data;
    size_t size;
    while (r.next(data, size)) out.emplace_back(data, data + size);
  }
  return out;
}

std::vector<uint8_t> framed(size_t size, uint8_t fill) {
  std::vector<uint8_t> v{static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)};
  v.insert(v.end(), size, fill);
  return v;
}

}  // namespace

TEST_CASE("frames are reassembled whatever the read sizes") {
  std::vector<uint8_t> stream;
  std::vector<size_t> sizes = {12, 300, 65535, 1, 4000, 29};
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto f = framed(sizes[i], static_cast<uint8_t>(i + 1));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t step : {1ul, 2ul, 3ul, 7ul, 4096ul, 70000ul}) {
    FrameReader r;
    auto got = feed(r, stream, step);
    INFO("step " << step);
    REQUIRE(got.size() == sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      CHECK(got[i].size() == sizes[i]);
      CHECK(std::all_of(got[i].begin(), got[i].end(), [&](uint8_t b) { return b == i + 1; }));
    }
    CHECK(r.buffered() == 0);
    CHECK_FALSE(r.has_prefix());
  }
}

TEST_CASE("the announced length is known as soon as the prefix arrives") {
  FrameReader r;
  auto f = framed(5000, 9);
  uv_buf_t b = r.space();
  std::memcpy(b.base, f.data(), 1);
  r.received(1);
  CHECK_FALSE(r.has_prefix());
  b = r.space();
  std::memcpy(b.base, f.data() + 1, 3);
  r.received(3);
  REQUIRE(r.has_prefix());
  CHECK(r.announced() == 5000);
  CHECK(r.buffered() == 4);
  uint8_t* data;
  size_t size;
  CHECK_FALSE(r.next(data, size));
  // The next read has room for the whole message.
  CHECK(r.space().len >= 5000 - 2);
}

TEST_CASE("the read buffer never holds more than one message and one read") {
  // Messages placed so that a large one starts deep in the buffer, over and
  // over (a client steering the buffer's growth): it must stay bounded, and
  // shrink back once idle.
  FrameReader r;
  size_t largest = 0;
  for (int round = 0; round < 50; ++round) {
    std::vector<uint8_t> stream;
    for (size_t pad = 0; pad < static_cast<size_t>(round % 17); ++pad) {
      auto f = framed(3000 + 97 * pad, 1);
      stream.insert(stream.end(), f.begin(), f.end());
    }
    auto big = framed(65535, 2);
    stream.insert(stream.end(), big.begin(), big.end());
    auto got = feed(r, stream, 1000 + 37 * static_cast<size_t>(round));
    REQUIRE(got.back().size() == 65535);
    largest = std::max(largest, r.capacity());
    CHECK(r.capacity() <= 65537 + 4096);
  }
  INFO("largest " << largest);
  r.space();  // idle: back to a small buffer
  CHECK(r.capacity() <= 4096);
}

TEST_CASE("admission limits connections in total and per client address") {
  TcpAdmission a;
  NetAddress one = *NetAddress::parse("192.0.2.1:1000");
  NetAddress one_other_port = *NetAddress::parse("192.0.2.1:2000");
  NetAddress two = *NetAddress::parse("192.0.2.2:1000");
  NetAddress v6 = *NetAddress::parse("[2001:db8::1]:53");
  CHECK(a.admit(one, 5, 2) == TcpAdmission::Verdict::kAdmitted);
  CHECK(a.admit(one_other_port, 5, 2) == TcpAdmission::Verdict::kAdmitted);  // the port is not the client
  CHECK(a.admit(one, 5, 2) == TcpAdmission::Verdict::kClientLimit);
  CHECK(a.admit(two, 5, 2) == TcpAdmission::Verdict::kAdmitted);
  CHECK(a.admit(v6, 5, 2) == TcpAdmission::Verdict::kAdmitted);
  CHECK(a.admit(v6, 5, 2) == TcpAdmission::Verdict::kAdmitted);
  CHECK(a.current() == 5);
  CHECK(a.admit(two, 5, 2) == TcpAdmission::Verdict::kTotalLimit);
  a.release(one);
  CHECK(a.current() == 4);
  CHECK(a.admit(one, 5, 2) == TcpAdmission::Verdict::kAdmitted);
  a.release(one);
  a.release(one);
  a.release(one);  // more releases than admissions change nothing
  CHECK(a.current() == 3);
}

TEST_CASE("tcp frames: whole messages not handled yet are not a partial one") {
  // A paused connection keeps whole messages it has not handled; only bytes
  // of a message not fully read make a close "in the middle of a message".
  FrameReader r;
  std::vector<uint8_t> two = framed(20, 1);
  auto second = framed(30, 2);
  two.insert(two.end(), second.begin(), second.end());
  uv_buf_t b = r.space();
  std::memcpy(b.base, two.data(), two.size());
  r.received(two.size());
  CHECK_FALSE(r.ends_mid_message());
  uint8_t* data;
  size_t size;
  REQUIRE(r.next(data, size));
  CHECK_FALSE(r.ends_mid_message());
  b = r.space();
  std::memcpy(b.base, framed(40, 3).data(), 1);  // one byte of a prefix
  r.received(1);
  CHECK(r.ends_mid_message());
  b = r.space();
  std::memcpy(b.base, framed(40, 3).data() + 1, 5);  // the prefix and 4 of 40 bytes
  r.received(5);
  CHECK(r.ends_mid_message());
  REQUIRE(r.next(data, size));  // the second message
  CHECK(size == 30);
  CHECK(r.ends_mid_message());
  r.discard();
  CHECK_FALSE(r.ends_mid_message());
}
