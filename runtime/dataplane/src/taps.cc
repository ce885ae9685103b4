#include "dnspc/runtime/taps.h"

namespace dnspc::runtime {

namespace {

void add(Taps& t, TapPoint p, Tap tap) {
  TapList& l = t.at[static_cast<unsigned>(p)];
  l.taps[l.count++] = tap;
}

}  // namespace

Taps bind_taps(const TapNeeds& needs) {
  Taps t;
  // Order matters where a point has several: the block measure sees the
  // backend's own answer, before a response rule changes or drops it.
  if (needs.dynamic_blocks) {
    add(t, TapPoint::kQueryReceived, Tap::kBlockMeasure);
    add(t, TapPoint::kBackendAnswer, Tap::kBlockMeasure);
  }
  // The cache keeps the backend's answer, not what a response rule makes of
  // it: a hit runs the response rules again.
  if (needs.cache) add(t, TapPoint::kBackendAnswer, Tap::kCacheStore);
  if (needs.response_rules) add(t, TapPoint::kBackendAnswer, Tap::kResponseRules);
  if (needs.rings) {
    add(t, TapPoint::kDecided, Tap::kRings);
    add(t, TapPoint::kAnswered, Tap::kRings);
  }
  return t;
}

const char* tap_point_name(TapPoint p) {
  switch (p) {
    case TapPoint::kQueryReceived: return "query received";
    case TapPoint::kDecided: return "decided";
    case TapPoint::kBackendAnswer: return "backend answer";
    case TapPoint::kAnswered: return "answered";
    case TapPoint::kTimedOut: return "timed out";
  }
  return "?";
}

const char* tap_name(Tap t) {
  switch (t) {
    case Tap::kBlockMeasure: return "block measure";
    case Tap::kResponseRules: return "response rules";
    case Tap::kRings: return "rings";
    case Tap::kCacheStore: return "cache store";
  }
  return "?";
}

}  // namespace dnspc::runtime
