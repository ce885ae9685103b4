#include <catch2/catch.hpp>

#include <set>

#include "dnspc/runtime/random.h"

using dnspc::runtime::BufferedRandom;

TEST_CASE("buffered CSPRNG: one getrandom per 4 KiB, values spread", "[runtime]") {
  static BufferedRandom r;  // 4 KiB: not on the test's stack
  std::set<uint16_t> seen;
  for (int i = 0; i < 2048; ++i) seen.insert(r.u16());
  CHECK(r.refills() == 1);
  CHECK(seen.size() > 2000);  // 2048 draws from 65536 repeat about 32 times
  r.u16();
  CHECK(r.refills() == 2);
  int ones = 0;
  for (int i = 0; i < 1000; ++i) ones += __builtin_popcountll(r.u64());
  CHECK(ones == Approx(32000).epsilon(0.05));
}
