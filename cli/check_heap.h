// The heap of `dnspc check`, a short process that allocates a lot and frees
// almost nothing (it exits with std::_Exit): at 10k rules a third of its CPU
// time went to first-touch page faults, one per 4 KiB of fresh heap.
#pragma once

#include <cstddef>

namespace dnspc::cli {

// Grows the main heap once by `bytes` (address space only: pages are still
// touched lazily) and asks for transparent huge pages over it, so that the
// kernel faults in 2 MiB at a time. Other threads keep their own arenas and
// 4 KiB pages: forcing every thread onto this heap (M_ARENA_MAX 1) made the
// parse and regex threads queue on malloc's lock, 0.6 s slower at 100k
// rules. Nothing depends on it working: without THP it costs one sbrk.
void reserve_bulk_heap(size_t bytes);

}  // namespace dnspc::cli
