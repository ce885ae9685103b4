// What a compiled policy returns for one query. Small enough to come back in
// registers; everything static about the matched rule (modifier arguments,
// spoofed records, pool names) lives in the compiled policy's rule table,
// indexed by `rule`.
#pragma once

#include <cstdint>

namespace dnspc {

// Exactly one terminal action ends rule evaluation.
enum class ActionKind : uint8_t {
  kPool = 0,  // forward to pool `argument`
  kDrop,      // say nothing
  kRefuse,    // answer REFUSED
  kRcode,     // answer with rcode `argument`
  kTruncate,  // answer TC=1 over UDP; over TCP the rule falls through
  kSpoof,     // answer from spoof set `argument`
  kAllow,     // forward to the policy's default pool
  kLua,       // call Lua action `argument`
};
constexpr unsigned kActionKindCount = 8;
const char* action_kind_name(ActionKind kind);

// Modifiers run before the terminal action; their arguments are per rule.
namespace modifier_bits {
constexpr uint8_t kTag = 0x01;
constexpr uint8_t kLog = 0x02;
constexpr uint8_t kDelay = 0x04;
constexpr uint8_t kNoRecurse = 0x08;
constexpr uint8_t kSetCd = 0x10;
constexpr uint8_t kNoCache = 0x20;  // not looked up in or stored into the pool's cache
}  // namespace modifier_bits

// The argument of a kSpoof verdict a Lua action decided: its records are the
// call's, not one of the policy's spoof sets.
constexpr uint16_t kLuaSpoofSet = 0xffff;

struct Verdict {
  uint32_t rule = 0;  // index in the compiled policy's rule table
  ActionKind action = ActionKind::kDrop;
  uint8_t modifiers = 0;  // modifier_bits of the matched rule
  uint16_t argument = 0;

  friend bool operator==(const Verdict&, const Verdict&) = default;
};
static_assert(sizeof(Verdict) == 8, "a verdict is returned in one register");

}  // namespace dnspc
