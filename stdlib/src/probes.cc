// The C-linkage wrappers of probes.h, for JIT-compiled code.
#include "dnspc/probes.h"

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

}  // extern "C"
