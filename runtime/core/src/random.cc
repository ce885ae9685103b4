#include "dnspc/runtime/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace dnspc::runtime {

void BufferedRandom::refill() {
  size_t got = 0;
  // getrandom never returns short for <= 256 bytes once the pool is ready,
  // and only on signals for more; it fails only on bad arguments.
  for (int tries = 0; got < kBufferSize && tries < 100; ++tries) {
    ssize_t n = getrandom(buf_ + got, kBufferSize - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += static_cast<size_t>(n);
  }
  if (got < kBufferSize) std::abort();  // no randomness: never send predictable IDs
  pos_ = 0;
  ++refills_;
}

}  // namespace dnspc::runtime
