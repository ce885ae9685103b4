// Where the console key comes from: DNSPC_CONSOLE_KEY, else a key file that
// only its owner may read.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dnspc/runtime/console_protocol.h"

namespace dnspc::runtime::console {

std::optional<Key> load_key(const std::string& file, std::string& error) {
  if (const char* env = std::getenv("DNSPC_CONSOLE_KEY"); env && *env) {
    auto key = parse_key(env, error);
    if (!key) error = "DNSPC_CONSOLE_KEY: " + error;
    return key;
  }
  if (file.empty()) {
    error =
        "no console key: set DNSPC_CONSOLE_KEY or name a key file (option console_key_file, "
        "--key-file); "
        "`dnspc console --make-key` prints a new key";
    return std::nullopt;
  }
  return load_key_file(file, error);
}

std::optional<Key> load_key_file(const std::string& file, std::string& error) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open the console key file " + file + ": " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = "the console key file " + file + " is not a regular file";
    return std::nullopt;
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    error = "the console key file " + file + " may be read or written by others: chmod 600 " + file;
    return std::nullopt;
  }
  char text[256];
  const ssize_t n = ::read(fd, text, sizeof text);
  ::close(fd);
  if (n < 0 || n == static_cast<ssize_t>(sizeof text)) {
    error = "the console key file " + file + " does not hold one key (44 base64 characters)";
    return std::nullopt;
  }
  auto key = parse_key(std::string_view(text, static_cast<size_t>(n)), error);
  explicit_bzero(text, sizeof text);
  if (!key) error = file + ": " + error;
  return key;
}

}  // namespace dnspc::runtime::console
