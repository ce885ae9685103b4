// Lifecycle taps: what a worker does beside a query's path at fixed points of
// its life, bound once per policy (when a worker adopts it), never looked up
// per packet. Each point has a fixed array of taps, run in order; the worker
// dispatches them with a switch over this closed set, so a tap costs no
// virtual call and a tap that is off costs nothing but a shorter loop.
//
//   query received   a parsed query from a client allowed by the ACL
//   decided          the verdict is known (rule or dynamic block) and acted on
//   backend answer   a backend's answer matched to its query, before the
//                    client's size limit; taps here may replace or drop it
//   answered         an answer left for the client (local, backend, timeout)
//   timed out        a query to a backend got no answer in time
//
// The packet cache stores backend answers at "backend answer"; its lookup is
// part of forwarding (a hit never reaches a backend), docs/cache.md.
#pragma once

#include <array>
#include <cstdint>

namespace dnspc::runtime {

enum class TapPoint : uint8_t { kQueryReceived, kDecided, kBackendAnswer, kAnswered, kTimedOut };
inline constexpr unsigned kTapPointCount = 5;

enum class Tap : uint8_t {
  kBlockMeasure,   // dynamic blocks: counts queries and answers per client
  kResponseRules,  // the policy's response rules (may replace or drop the answer)
  kRings,          // the rings of recent queries and answers
  kCacheStore,     // the pool's packet cache keeps the backend's answer
};

struct TapList {
  static constexpr unsigned kMax = 4;
  uint8_t count = 0;
  std::array<Tap, kMax> taps{};
  const Tap* begin() const { return taps.data(); }
  const Tap* end() const { return taps.data() + count; }
};

struct Taps {
  std::array<TapList, kTapPointCount> at;
  const TapList& operator[](TapPoint p) const { return at[static_cast<unsigned>(p)]; }
};

// What a policy and a worker have that needs a tap.
struct TapNeeds {
  bool dynamic_blocks = false;  // the policy has dynblocks
  bool response_rules = false;  // the policy has response rules
  bool rings = false;           // ring_entries > 0
  bool cache = false;           // a pool has a packet cache
};

Taps bind_taps(const TapNeeds& needs);

const char* tap_point_name(TapPoint p);
const char* tap_name(Tap t);

}  // namespace dnspc::runtime
