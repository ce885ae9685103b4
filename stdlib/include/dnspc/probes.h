// The lookup probes with C linkage: what JIT-compiled policy code calls. Each
// takes the flat table by pointer (the compiled policy owns it), reads only
// the view or address it is given, writes at most `cap` test ids to `out`
// (ascending, without repeats) and returns how many there are in all, so a
// result above `cap` means `out` was too small. No allocation, no locks.
//
// The tables are C++ types; C code treats them as opaque pointers.
#pragma once

#include <cstdint>

#include "dnspc/name_index.h"
#include "dnspc/prefix_index.h"
#include "dnspc/qtype_index.h"
#include "dnspc/query_view.h"

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

}  // extern "C"
