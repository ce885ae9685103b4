#include "dnspc/kernel_seal.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace dnspc::kernel {

const Seal& process_seal() {
  static const Seal seal = [] {
    Seal s{};
    size_t got = 0;
    while (got < s.size()) {
      const ssize_t n = getrandom(s.data() + got, s.size() - got, 0);
      if (n > 0) {
        got += static_cast<size_t>(n);
      } else if (errno != EINTR) {
        std::abort();  // without randomness a seal could be guessed: better not to start
      }
    }
    return s;
  }();
  return seal;
}

}  // namespace dnspc::kernel
