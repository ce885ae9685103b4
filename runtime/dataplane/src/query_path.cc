#include "dnspc/runtime/query_path.h"

#include "dnspc/dynblock_recorder.h"
#include "dnspc/dynblock_spec.h"
#include "dnspc/lua/hook_runtime.h"
#include "dnspc/runtime/active_policy.h"
#include "dnspc/runtime/registry.h"
#include "dnspc/wire.h"

namespace dnspc::runtime {

// IQUERY (obsolete), STATUS, DSO (stateful, per connection: it cannot be
// proxied query by query) and unassigned opcodes are answered NOTIMP when a
// rule would forward them (RFC 1996 NOTIFY and RFC 2136 UPDATE go through).
bool forwardable_opcode(uint8_t opcode) {
  return opcode == opcode::kQuery || opcode == opcode::kNotify || opcode == opcode::kUpdate;
}

void QueryPath::answer_with(QueryOutcome& o, size_t n, const char* what) {
  o.log_outcome = what;
  if (n) {
    o.fate = QueryFate::kAnswered;
    o.answer_size = n;
  }
}

Verdict QueryPath::decide(const QueryView& q, uint32_t first_rule, uint64_t& lua_tags) {
  const ActivePolicy& p = *policy_;
  const PolicyImage& image = *p.image;
  state_->first_rule = first_rule;
  for (;;) {
    const Verdict v = p.decide(q, *state_);
    if (v.action != ActionKind::kLua || lua_ == nullptr || v.rule >= image.rules.size() ||
        v.argument >= image.lua.query_uses.size()) {
      return v;
    }
    lua::HookQuery hook_query;
    hook_query.view = &q;
    hook_query.rule = image.rules[v.rule].name;
    hook_query.tags = state_->tags;
    const lua::ActionVerdict decided = lua_->action(image.lua.query_uses[v.argument], hook_query);
    if (std::optional<Verdict> d = lua::decided_verdict(v, decided, q.transport, image.lua.default_pool)) {
      lua_tags = hook_query.tags & ~state_->tags;
      state_->tags = hook_query.tags;
      lua_records_ = decided.records;
      return *d;
    }
    counters_.lua_no_verdict.add();
    state_->first_rule = v.rule + 1;
  }
}

QueryOutcome QueryPath::run(const QueryInput& in, uint64_t now_ns, QueryView& q, uint8_t* answer, size_t capacity) {
  const ActivePolicy& p = *policy_;
  QueryOutcome o;
  const bool allowed = acl_allows(p, in.source);
  if (!allowed && p.acl_drop) {
    counters_.acl_dropped.add();
    return o;
  }
  const ParseError err = parse_query(in.packet, in.size, in.transport, q);
  q.source = in.source;
  o.action = allowed ? ActionKind::kRcode : ActionKind::kRefuse;
  if (err != ParseError::kOk) {
    counters_.malformed[static_cast<unsigned>(err)].add();
    // A query without one question is a client's mistake it should hear
    // about (RFC 8906: silence looks like loss and is retried); any other
    // malformed packet may not even come from a DNS client.
    if (err == ParseError::kQuestionCount) {
      const size_t n = build_rcode_answer(q, allowed ? rcode::kFormErr : rcode::kRefused, answer, capacity);
      if (n) counters_.formerr_no_question.add();
      answer_with(o, n, "answered");
    }
    return o;
  }
  if (!allowed) {
    counters_.acl_refused.add();
    answer_with(o, build_rcode_answer(q, rcode::kRefused, answer, capacity), "refused (acl)");
    return o;
  }
  q.destination = in.destination;

  for (Tap t : (*taps_)[TapPoint::kQueryReceived]) {
    if (t == Tap::kBlockMeasure && recorder_) recorder_->record_query(in.source, q.qtype);
  }
  state_->now_ns = now_ns;
  state_->tags = 0;
  state_->first_rule = 0;  // the last answer's response rules may have left it set
  const PolicyImage& image = *p.image;
  // A dynamic block in force for the source decides before the rules.
  std::optional<Verdict> blocked;
  if (recorder_) {
    if (const ActiveBlock* b = recorder_->lookup(in.source)) {
      blocked = block_verdict(image.dynblocks[b->block], static_cast<uint32_t>(image.rules.size() + b->block),
                              in.transport);
      if (blocked) recorder_->count_hit(*b);
    }
  }
  uint64_t lua_tags = 0;
  const Verdict v = blocked ? *blocked : decide(q, in.first_rule, lua_tags);
  o.decided = true;
  o.blocked = blocked.has_value();
  o.verdict = v;
  o.action = v.action;

  const RuleSpec* rule = v.rule < image.rules.size() ? &image.rules[v.rule] : nullptr;
  if (rule) {
    o.rule = p.rule_ids[v.rule];
    counters_.rule_hits[o.rule].add();
    if (v.modifiers & modifier_bits::kTag) o.tags = rule->tag_bits;
    o.tags |= lua_tags;
    for (uint64_t bits = o.tags; bits; bits &= bits - 1) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctzll(bits));
      if (bit < p.tag_ids.size()) counters_.tag_hits[p.tag_ids[bit]].add();
    }
    // `delay` holds UDP answers only (as dnsdist's DelayAction); over TCP it is ignored.
    if ((v.modifiers & modifier_bits::kDelay) && in.transport == Transport::kUdp) o.delay_ms = rule->delay_ms;
  }
  counters_.actions[static_cast<unsigned>(v.action) % kActionKindCount].add();

  switch (v.action) {
    case ActionKind::kPool:
    case ActionKind::kAllow:
      if (!forwardable_opcode(q.opcode)) {
        // Backends answer such opcodes without a question, or not at all;
        // the client learns at once that nobody implements it.
        counters_.notimp_opcode.add();
        answer_with(o, build_rcode_answer(q, rcode::kNotImp, answer, capacity), "answered NOTIMP (opcode)");
        break;
      }
      o.fate = QueryFate::kForward;
      o.pool = v.argument;
      break;
    case ActionKind::kDrop:
      o.log_outcome = "dropped";
      break;
    case ActionKind::kRefuse:
    case ActionKind::kRcode: {
      const uint8_t rc = v.action == ActionKind::kRefuse ? rcode::kRefused : static_cast<uint8_t>(v.argument);
      answer_with(o, build_rcode_answer(q, rc, answer, capacity), "answered");
      break;
    }
    case ActionKind::kTruncate:
      answer_with(o, build_truncated_answer(q, answer, capacity), "truncated");
      break;
    case ActionKind::kSpoof:
      if (v.argument == kLuaSpoofSet) {
        answer_with(o, build_spoof_answer(q, lua_records_, answer, capacity), "spoofed (lua)");
      } else if (v.argument < p.spoof.size()) {
        answer_with(o, build_spoof_answer(q, p.spoof[v.argument], answer, capacity), "spoofed");
      }
      break;
    case ActionKind::kLua:
      // Only without a Lua state (validate() refuses such a policy).
      o.log_outcome = "dropped (lua)";
      break;
  }
  return o;
}

}  // namespace dnspc::runtime
