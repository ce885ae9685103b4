// Test semantics, written for clarity, not speed.
#include <algorithm>
#include <cstring>

#include "dnspc/dfa_table.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/source_rate_table.h"

namespace dnspc::interp {

namespace {

using ir::TestKind;

bool name_in(const ir::NameSet& set, const QueryView& q) {
  for (const ir::NameEntry& e : set.entries) {
    if (!e.suffix) {
      if (e.wire.size() == q.qname_length && std::memcmp(e.wire.data(), q.qname_lower, e.wire.size()) == 0) {
        return true;
      }
      continue;
    }
    // A suffix matches when some label boundary of the name starts it.
    for (unsigned i = 0; i <= q.label_count; ++i) {
      unsigned off = q.label_offsets[i];
      unsigned len = q.qname_length - off;
      if (len == e.wire.size() && std::memcmp(e.wire.data(), q.qname_lower + off, len) == 0) return true;
    }
  }
  return false;
}

bool in_prefix(const ir::Prefix& p, const NetAddress& a) {
  if (p.address.family != a.family) return false;
  for (unsigned bit = 0; bit < p.length; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((p.address.bytes[bit / 8] & mask) != (a.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

bool address_in(const ir::PrefixSet& set, const NetAddress& a) {
  return std::any_of(set.prefixes.begin(), set.prefixes.end(), [&](const ir::Prefix& p) { return in_prefix(p, a); });
}

unsigned text_length(const QueryView& q) { return q.qname_length <= 1 ? 1 : q.qname_length - 1u; }

}  // namespace

bool eval_test(const ir::Program& p, const ir::Test& t, const QueryView& q, DecisionState& state) {
  switch (t.kind) {
    case TestKind::kTrue: return true;
    case TestKind::kFalse: return false;
    case TestKind::kName: return name_in(p.name_sets[t.table], q);
    case TestKind::kRegex: return dfa_match_qname(p.regexes[t.table].dfa, q);
    case TestKind::kLabelCount: return ir::compare(q.label_count, t.op, t.value);
    case TestKind::kNameLength: return ir::compare(text_length(q), t.op, t.value);
    case TestKind::kQtype: {
      const auto& types = p.qtype_sets[t.table].qtypes;
      return std::find(types.begin(), types.end(), q.qtype) != types.end();
    }
    case TestKind::kQclass: return q.qclass == t.value;
    case TestKind::kOpcode: return q.opcode == t.value;
    case TestKind::kHeaderBit: return (q.flags & t.value) != 0;
    case TestKind::kEdns: return q.edns_present != 0;
    case TestKind::kEdnsDo: return q.edns_do != 0;
    case TestKind::kEdnsVersion: return ir::compare(q.edns_version, t.op, t.value);
    case TestKind::kEdnsPayload: return ir::compare(q.edns_payload, t.op, t.value);
    case TestKind::kEdnsOption: {
      if (t.value < 64) return (q.edns_option_bits >> t.value) & 1;
      unsigned n = std::min<unsigned>(q.edns_option_count, kMaxRecordedEdnsOptions);
      return std::find(q.edns_options, q.edns_options + n, t.value) != q.edns_options + n;
    }
    case TestKind::kSource: return address_in(p.prefix_sets[t.table], q.source);
    case TestKind::kDestination: return address_in(p.prefix_sets[t.table], q.destination);
    case TestKind::kTransport: return static_cast<uint64_t>(q.transport) == t.value;
    case TestKind::kSize: return ir::compare(q.size, t.op, t.value);
    case TestKind::kQps: {
      const ir::Limiter& l = p.limiters[t.table];
      bool conforms = l.per_source ? state.source_tables[t.table]->try_take(q.source, state.now_ns)
                                   : state.rate_limiters[t.table].try_take(l.spec, state.now_ns);
      return !conforms;  // the test holds when the traffic is over the bound
    }
    case TestKind::kProbability: {
      uint64_t r = next_random(state.random);
      return t.value == UINT64_MAX || r < t.value;
    }
    case TestKind::kTagged: return (state.tags >> t.value) & 1;
    case TestKind::kLua:
      return state.lua_predicate && state.lua_predicate(state.lua_context, t.table, &q);
    case TestKind::kResponseRcode: return ir::compare(state.response.rcode, t.op, t.value);
    case TestKind::kAnswerCount: return ir::compare(state.response.answers, t.op, t.value);
    case TestKind::kLatency: return ir::compare(state.response.latency_us / 1000, t.op, t.value);
    case TestKind::kResponseSize: return ir::compare(state.response.size, t.op, t.value);
    case TestKind::kFromRule: return state.first_rule <= t.value;
  }
  return false;
}

}  // namespace dnspc::interp
