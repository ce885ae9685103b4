#include "check_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace dnspc::cli {

void reserve_bulk_heap(size_t bytes) {
  // Big blocks (token and rule vectors) from the heap too, not one mmap each.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Whenever the heap grows, by `bytes` more than asked: the first
  // allocation past the current top reserves all of it.
  mallopt(M_TOP_PAD, static_cast<int>(bytes));
  auto* before = static_cast<char*>(sbrk(0));
  void* volatile probe = std::malloc(1 << 20);  // volatile: not elided with its free()
  auto* after = static_cast<char*>(sbrk(0));
  std::free(probe);
  constexpr uintptr_t kHuge = 2 << 20;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(before) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(after) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void prepare_thread_heap() {
  void* volatile probe = std::malloc(1);  // attaches the thread to its arena
  auto at = reinterpret_cast<uintptr_t>(probe);
  std::free(probe);
  // On the main heap (below the program break) reserve_bulk_heap did it.
  if (at < reinterpret_cast<uintptr_t>(sbrk(0))) return;
  // glibc's thread arenas live in heaps of HEAP_MAX_SIZE (64 MiB on 64-bit)
  // aligned to their size; with reserve_bulk_heap's M_TOP_PAD, a new heap
  // is readable and writable to its end at once, so 2 MiB pages fit in it.
  constexpr uintptr_t kHeapMax = uintptr_t{64} << 20;
  madvise(reinterpret_cast<void*>(at & ~(kHeapMax - 1)), kHeapMax, MADV_HUGEPAGE);
}

}  // namespace dnspc::cli
