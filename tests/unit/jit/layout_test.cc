// The layouts native code reads at offsetof() positions, pinned: changing
// one of these structs changes what compiled code must read, so it must be
// a deliberate change here (and in docs/jit.md), never an accident.
#include <catch2/catch.hpp>

#include <cstddef>

#include "dnspc/codegen/policy_data.h"
#include "dnspc/decision_state.h"
#include "dnspc/query_view.h"
#include "dnspc/verdict.h"

using namespace dnspc;

TEST_CASE("the packet view's layout is pinned", "[jit][layout]") {
  CHECK(sizeof(QueryView) == 520);
  CHECK(offsetof(QueryView, packet) == 0);
  CHECK(offsetof(QueryView, size) == 8);
  CHECK(offsetof(QueryView, flags) == 12);
  CHECK(offsetof(QueryView, opcode) == 22);
  CHECK(offsetof(QueryView, transport) == 24);
  CHECK(offsetof(QueryView, edns_present) == 25);
  CHECK(offsetof(QueryView, edns_version) == 26);
  CHECK(offsetof(QueryView, edns_do) == 27);
  CHECK(offsetof(QueryView, edns_option_count) == 28);
  CHECK(offsetof(QueryView, edns_payload) == 30);
  CHECK(offsetof(QueryView, edns_options) == 32);
  CHECK(offsetof(QueryView, edns_option_bits) == 48);
  CHECK(offsetof(QueryView, qtype) == 76);
  CHECK(offsetof(QueryView, qclass) == 78);
  CHECK(offsetof(QueryView, qname_length) == 86);
  CHECK(offsetof(QueryView, label_count) == 87);
  CHECK(offsetof(QueryView, dot_in_label) == 88);
  CHECK(offsetof(QueryView, label_offsets) == 89);
  CHECK(offsetof(QueryView, qname_lower) == 217);
  CHECK(offsetof(QueryView, source) == 474);
  CHECK(offsetof(QueryView, destination) == 494);
  CHECK(sizeof(NetAddress) == 20);
  CHECK(offsetof(NetAddress, family) == 0);
  CHECK(offsetof(NetAddress, bytes) == 4);
}

TEST_CASE("the decision state's layout is pinned", "[jit][layout]") {
  CHECK(sizeof(DecisionState) == 96);
  CHECK(offsetof(DecisionState, now_ns) == 0);
  CHECK(offsetof(DecisionState, random) == 8);
  CHECK(offsetof(DecisionState, rate_limiters) == 16);
  CHECK(offsetof(DecisionState, source_tables) == 24);
  CHECK(offsetof(DecisionState, tags) == 32);
  CHECK(offsetof(DecisionState, scratch) == 40);
  CHECK(offsetof(DecisionState, scratch_words) == 48);
  CHECK(offsetof(DecisionState, lua_predicate) == 56);
  CHECK(offsetof(DecisionState, lua_context) == 64);
  CHECK(offsetof(DecisionState, response) == 72);
  CHECK(offsetof(DecisionState, first_rule) == 88);
  CHECK(sizeof(ResponseFacts) == 16);
  CHECK(offsetof(ResponseFacts, latency_us) == 0);
  CHECK(offsetof(ResponseFacts, size) == 8);
  CHECK(offsetof(ResponseFacts, rcode) == 12);
  CHECK(offsetof(ResponseFacts, answers) == 14);
}

TEST_CASE("the verdict's layout is pinned", "[jit][layout]") {
  CHECK(sizeof(Verdict) == 8);
  CHECK(offsetof(Verdict, rule) == 0);
  CHECK(offsetof(Verdict, action) == 4);
  CHECK(offsetof(Verdict, modifiers) == 5);
  CHECK(offsetof(Verdict, argument) == 6);
}

TEST_CASE("the native tables' layout is pinned", "[jit][layout]") {
  using codegen::NativeAddressFilter;
  using codegen::NativeDfa;
  using codegen::NativeTables;
  CHECK(sizeof(NativeDfa) == 40);
  CHECK(offsetof(NativeDfa, next) == 0);
  CHECK(offsetof(NativeDfa, byte_class) == 8);
  CHECK(offsetof(NativeDfa, accepting) == 16);
  CHECK(offsetof(NativeDfa, class_count) == 24);
  CHECK(offsetof(NativeDfa, start) == 28);
  CHECK(offsetof(NativeDfa, sink_count) == 32);
  CHECK(offsetof(NativeDfa, accept_base) == 36);
  CHECK(offsetof(NativeTables, names) == 0);
  CHECK(offsetof(NativeTables, sources) == 8);
  CHECK(offsetof(NativeTables, destinations) == 16);
  CHECK(offsetof(NativeTables, qtypes) == 24);
  CHECK(offsetof(NativeTables, qtype_small_begin) == 32);
  CHECK(offsetof(NativeTables, qtype_ids) == 40);
  CHECK(offsetof(NativeTables, name_filter) == 48);
  CHECK(offsetof(NativeTables, source_filter) == 56);
  CHECK(offsetof(NativeTables, destination_filter) == 88);
  CHECK(offsetof(NativeTables, unions) == 120);
  CHECK(offsetof(NativeTables, union_accept_begin) == 128);
  CHECK(offsetof(NativeTables, union_accept_tests) == 136);
  CHECK(offsetof(NativeTables, regexes) == 144);
  CHECK(offsetof(NativeTables, anchor_begin) == 152);
  CHECK(offsetof(NativeTables, candidates) == 160);
  CHECK(offsetof(NativeTables, rules) == 168);
  CHECK(offsetof(NativeTables, no_rule) == 176);
  CHECK(offsetof(NativeTables, always_begin) == 184);
  CHECK(offsetof(NativeTables, always_end) == 188);
  CHECK(offsetof(NativeTables, lazy_begin) == 192);
  CHECK(offsetof(NativeTables, lazy_end) == 196);
  CHECK(offsetof(NativeTables, union_count) == 200);
  CHECK(offsetof(NativeTables, rule_count) == 204);
  CHECK(offsetof(NativeTables, name_cap) == 208);
  CHECK(offsetof(NativeTables, source_cap) == 212);
  CHECK(offsetof(NativeTables, destination_cap) == 216);
  CHECK(offsetof(NativeTables, list_cap) == 220);
  CHECK(offsetof(NativeTables, source_offset) == 224);
  CHECK(offsetof(NativeTables, destination_offset) == 228);
  CHECK(offsetof(NativeTables, union_state_offset) == 232);
  CHECK(offsetof(NativeTables, list_offset) == 236);
  CHECK(offsetof(NativeTables, scratch_words) == 240);
  CHECK(sizeof(NativeTables) == 248);
  CHECK(sizeof(NativeAddressFilter) == 32);
  CHECK(offsetof(NativeAddressFilter, bits) == 0);
  CHECK(offsetof(NativeAddressFilter, mask) == 16);
}
