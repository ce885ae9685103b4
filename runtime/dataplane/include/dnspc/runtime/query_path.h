// The query path of a worker, without I/O: ACL -> parse -> dynamic blocks ->
// decide -> act. It takes a client's bytes and returns what is to be done
// with them (drop, send the answer it wrote, or forward to a pool) as a
// value; the worker does the sending and the forwarding. Counters move here
// (ACL, malformed, rule and tag hits, actions, protocol answers); the
// "query received" taps run here too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dnspc/decision_state.h"
#include "dnspc/net_address.h"
#include "dnspc/query_view.h"
#include "dnspc/runtime/taps.h"
#include "dnspc/verdict.h"
#include "dnspc/wire.h"

namespace dnspc {
class BlockRecorder;
namespace lua {
class HookRuntime;
}
}  // namespace dnspc

namespace dnspc::runtime {

struct ActivePolicy;
struct WorkerCounters;

enum class QueryFate : uint8_t { kDropped, kAnswered, kForward };

struct QueryOutcome {
  static constexpr uint32_t kNoRule = UINT32_MAX;
  QueryFate fate = QueryFate::kDropped;
  bool decided = false;  // a rule or a dynamic block gave a verdict (not: ACL, malformed)
  bool blocked = false;  // the verdict is a dynamic block's
  Verdict verdict{};
  uint32_t rule = kNoRule;                // registry rule id of the deciding rule
  ActionKind action = ActionKind::kDrop;  // what the answer, if any, records as its action
  uint32_t pool = 0;                      // kForward: the pool's index in the policy
  uint32_t delay_ms = 0;                  // `delay` (UDP only): hold the answer this long
  uint64_t tags = 0;                      // the deciding rule's tags (`tag`), and its Lua action's
  size_t answer_size = 0;                 // kAnswered: the answer's bytes in the caller's buffer
  const char* log_outcome = nullptr;      // what was done, for `log` (null: dropped)
};

struct QueryInput {
  uint8_t* packet = nullptr;  // the client's bytes; the view points into them
  size_t size = 0;
  Transport transport = Transport::kUdp;
  NetAddress source, destination;
  // Where evaluation starts: past the kernel's prefix for a UDP query the
  // XDP program evaluated (docs/xdp.md), else 0.
  uint32_t first_rule = 0;
};

class QueryPath {
 public:
  explicit QueryPath(WorkerCounters& counters) : counters_(counters) {}

  // What the path runs under; the worker rebinds at each batch (the policy
  // may have changed, and the block recorder is per batch).
  void bind(const ActivePolicy* policy, BlockRecorder* recorder, DecisionState* state, const Taps* taps,
            lua::HookRuntime* lua) {
    policy_ = policy;
    recorder_ = recorder;
    state_ = state;
    taps_ = taps;
    lua_ = lua;
  }

  // `view` receives the parsed query; an answer made here is written to
  // `answer` (room for `capacity` bytes).
  QueryOutcome run(const QueryInput& in, uint64_t now_ns, QueryView& view, uint8_t* answer, size_t capacity);

 private:
  void answer_with(QueryOutcome& o, size_t n, const char* what);
  // The rules' verdict, a Lua action's decision standing in for its rule's
  // kLua; a Lua action without a verdict lets the following rules decide.
  Verdict decide(const QueryView& q, uint32_t first_rule, uint64_t& lua_tags);

  WorkerCounters& counters_;
  const ActivePolicy* policy_ = nullptr;
  BlockRecorder* recorder_ = nullptr;
  DecisionState* state_ = nullptr;
  const Taps* taps_ = nullptr;
  lua::HookRuntime* lua_ = nullptr;  // this worker's state of the policy's hooks
  std::span<const SpoofRecord> lua_records_;  // a Lua spoofing verdict's, until the next call
};

// QUERY, NOTIFY and UPDATE: what DNS servers behind us implement.
bool forwardable_opcode(uint8_t opcode);

}  // namespace dnspc::runtime
