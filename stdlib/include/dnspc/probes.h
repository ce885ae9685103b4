// The lookup probes with C linkage: what JIT-compiled policy code calls. Each
// takes the flat table by pointer (the compiled policy owns it), reads only
// the view or address it is given, writes at most `cap` test ids to `out`
// (ascending, without repeats) and returns how many there are in all, so a
// result above `cap` means `out` was too small. No allocation, no locks.
//
// The tables are C++ types; C code treats them as opaque pointers.
#pragma once

#include <cstdint>

#include "dnspc/decision_state.h"
#include "dnspc/name_index.h"
#include "dnspc/prefix_index.h"
#include "dnspc/qtype_index.h"
#include "dnspc/query_view.h"
#include "dnspc/rate_limiter.h"

extern "C" {

// name_probe(): tests true for the view's question name.
uint32_t dnspc_name_probe(const dnspc::NameIndex* index, const dnspc::QueryView* view,
                          uint32_t* out, uint32_t cap);

// prefix_probe(): tests whose prefix contains `address` (the JIT passes
// &view->source or &view->destination).
uint32_t dnspc_prefix_probe(const dnspc::PrefixIndex* index, const dnspc::NetAddress* address,
                            uint32_t* out, uint32_t cap);

// qtype_probe() on view->qtype.
uint32_t dnspc_qtype_probe(const dnspc::QtypeIndex* index, const dnspc::QueryView* view,
                           uint32_t* out, uint32_t cap);

// qtype_ids() without copying: stores the count in *count and returns the
// ids (inside the index; not null-terminated, possibly with *count == 0).
const uint32_t* dnspc_qtype_ids(const dnspc::QtypeIndex* index, uint16_t qtype, uint32_t* count);

// A QPS test (ir::TestKind::kQps), exactly as the reference interpreter runs
// it: takes a token from bound `limiter` at state->now_ns and returns 1 when
// the query does NOT conform (the test holds: the traffic is over the bound),
// 0 when it took a token. With `per_source` 0 the bound is the global bucket
// state->rate_limiters[limiter] with `spec`; otherwise it is the per-source
// table state->source_tables[limiter] keyed by `source` (`spec` unused).
uint32_t dnspc_rate_over(dnspc::DecisionState* state, const dnspc::RateSpec* spec, uint32_t limiter,
                         uint32_t per_source, const dnspc::NetAddress* source);

// A Lua predicate (ir::TestKind::kLua): 1 when state->lua_predicate says
// function `function` holds for the query, 0 otherwise or without a Lua
// runtime. The one way compiled code reaches Lua, and only when a rule asks.
uint32_t dnspc_lua_predicate(dnspc::DecisionState* state, uint32_t function, const dnspc::QueryView* view);

}  // extern "C"
