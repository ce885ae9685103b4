// The heap of `dnspc check`, a short process that allocates a lot and frees
// almost nothing (it exits with std::_Exit): at 10k rules a third of its CPU
// time went to first-touch page faults, one per 4 KiB of fresh heap.
#pragma once

#include <cstddef>

namespace dnspc::cli {

// Grows the main heap once by `bytes` (address space only: pages are still
// touched lazily) and asks for transparent huge pages over it, so that the
// kernel faults in 2 MiB at a time. Other threads keep their own arenas:
// forcing every thread onto this heap (M_ARENA_MAX 1) made the parse and
// regex threads queue on malloc's lock, 0.6 s slower at 100k rules.
// Nothing depends on it working: without THP it costs one sbrk.
void reserve_bulk_heap(size_t bytes);

// Asks for transparent huge pages over the calling thread's own arena, as
// reserve_bulk_heap does for the main heap; call it first on each worker
// thread, after reserve_bulk_heap. At 10k rules the parse and regex
// threads' 4 KiB first-touch faults were 5,200 of check's 7,600 and made
// the second parse chunk finish last.
void prepare_thread_heap();

}  // namespace dnspc::cli
