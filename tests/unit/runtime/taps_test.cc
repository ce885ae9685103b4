// Which taps a policy binds at each lifecycle point, and in what order.
#include <catch2/catch.hpp>

#include <vector>

#include "dnspc/runtime/taps.h"

using namespace dnspc::runtime;

namespace {

std::vector<Tap> at(const Taps& t, TapPoint p) { return {t[p].begin(), t[p].end()}; }

}  // namespace

TEST_CASE("taps: nothing bound when nothing needs a tap") {
  Taps t = bind_taps({});
  for (unsigned p = 0; p < kTapPointCount; ++p) CHECK(t.at[p].count == 0);
}

TEST_CASE("taps: rings observe decisions and answers only") {
  Taps t = bind_taps({false, false, true});
  CHECK(at(t, TapPoint::kDecided) == std::vector<Tap>{Tap::kRings});
  CHECK(at(t, TapPoint::kAnswered) == std::vector<Tap>{Tap::kRings});
  CHECK(at(t, TapPoint::kQueryReceived).empty());
  CHECK(at(t, TapPoint::kBackendAnswer).empty());
  CHECK(at(t, TapPoint::kTimedOut).empty());
}

TEST_CASE("taps: the block measure sees the backend's answer before response rules change it") {
  Taps t = bind_taps({true, true, true});
  CHECK(at(t, TapPoint::kQueryReceived) == std::vector<Tap>{Tap::kBlockMeasure});
  CHECK(at(t, TapPoint::kBackendAnswer) == std::vector<Tap>{Tap::kBlockMeasure, Tap::kResponseRules});
  Taps only_rules = bind_taps({false, true, false});
  CHECK(at(only_rules, TapPoint::kBackendAnswer) == std::vector<Tap>{Tap::kResponseRules});
}

TEST_CASE("taps: the cache stores the backend's own answer, before response rules change it") {
  Taps t = bind_taps({true, true, false, true});
  CHECK(at(t, TapPoint::kBackendAnswer) ==
        std::vector<Tap>{Tap::kBlockMeasure, Tap::kCacheStore, Tap::kResponseRules});
  Taps only_cache = bind_taps({false, false, false, true});
  CHECK(at(only_cache, TapPoint::kBackendAnswer) == std::vector<Tap>{Tap::kCacheStore});
  CHECK(at(only_cache, TapPoint::kAnswered).empty());
}

TEST_CASE("taps: every point and tap has a name for docs and logs") {
  for (unsigned p = 0; p < kTapPointCount; ++p) CHECK(std::string(tap_point_name(static_cast<TapPoint>(p))) != "?");
  for (Tap t : {Tap::kBlockMeasure, Tap::kResponseRules, Tap::kRings, Tap::kCacheStore}) CHECK(std::string(tap_name(t)) != "?");
}
