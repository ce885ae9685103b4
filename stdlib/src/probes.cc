// The C-linkage wrappers of probes.h, for JIT-compiled code.
#include "dnspc/probes.h"

#include "dnspc/source_rate_table.h"

extern "C" {

uint32_t dnspc_name_probe(const dnspc::NameIndex* index, const dnspc::QueryView* view,
                          uint32_t* out, uint32_t cap) {
  return dnspc::name_probe(*index, *view, out, cap);
}

uint32_t dnspc_prefix_probe(const dnspc::PrefixIndex* index, const dnspc::NetAddress* address,
                            uint32_t* out, uint32_t cap) {
  return dnspc::prefix_probe(*index, *address, out, cap);
}

uint32_t dnspc_qtype_probe(const dnspc::QtypeIndex* index, const dnspc::QueryView* view,
                           uint32_t* out, uint32_t cap) {
  return dnspc::qtype_probe(*index, view->qtype, out, cap);
}

const uint32_t* dnspc_qtype_ids(const dnspc::QtypeIndex* index, uint16_t qtype, uint32_t* count) {
  const std::span<const uint32_t> ids = dnspc::qtype_ids(*index, qtype);
  *count = static_cast<uint32_t>(ids.size());
  return ids.data();
}

uint32_t dnspc_rate_over(dnspc::DecisionState* state, const dnspc::RateSpec* spec, uint32_t limiter,
                         uint32_t per_source, const dnspc::NetAddress* source) {
  const bool conforms = per_source != 0
                            ? state->source_tables[limiter]->try_take(*source, state->now_ns)
                            : state->rate_limiters[limiter].try_take(*spec, state->now_ns);
  return conforms ? 0 : 1;
}

uint32_t dnspc_lua_predicate(dnspc::DecisionState* state, uint32_t function, const dnspc::QueryView* view) {
  return state->lua_predicate && state->lua_predicate(state->lua_context, function, view) ? 1 : 0;
}

}  // extern "C"
