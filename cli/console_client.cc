#include "console_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dnspc::cli {

namespace rc = runtime::console;

namespace {
constexpr int kConnectTimeoutMs = 5000;
constexpr int kHelloTimeoutMs = 5000;
}  // namespace

ConsoleClient::~ConsoleClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool ConsoleClient::read_exact(void* to, size_t n, int timeout_ms, std::string& error) {
  auto* p = static_cast<char*>(to);
  while (n > 0) {
    pollfd pfd{fd_, POLLIN, 0};
    const int r = ::poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      error = "the console did not answer in time";
      return false;
    }
    const ssize_t got = ::recv(fd_, p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      error = got == 0 ? "the console closed the connection"
                       : std::string("reading: ") + std::strerror(errno);
      return false;
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool ConsoleClient::open(const NetAddress& server, const rc::Key& key, std::string& error) {
  sockaddr_storage ss{};
  const unsigned len = server.to_sockaddr(ss);
  fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const std::string where = server.to_string(true);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    error = "cannot reach the console at " + where + ": " + std::strerror(errno);
    return false;
  }
  pollfd pfd{fd_, POLLOUT, 0};
  int soerr = 0;
  socklen_t soerr_len = sizeof soerr;
  if (::poll(&pfd, 1, kConnectTimeoutMs) != 1 ||
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) != 0 || soerr != 0) {
    error = "cannot reach the console at " + where + ": " +
            (soerr ? std::strerror(soerr) : "no answer in time") + " (is `console " + where +
            ";` in the running policy?)";
    return false;
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  rc::ClientHandshake hs(key);
  if (::send(fd_, hs.hello().data(), rc::kHelloBytes, MSG_NOSIGNAL) !=
      static_cast<ssize_t>(rc::kHelloBytes)) {
    error = "cannot write to the console at " + where;
    return false;
  }
  uint8_t reply[rc::kHelloBytes];
  std::string read_error;
  if (!read_exact(reply, sizeof reply, kHelloTimeoutMs, read_error)) {
    error = "the console at " + where +
            " refused the connection (a wrong key, or outside console_acl): " + read_error;
    return false;
  }
  auto keys = hs.finish(reply);
  if (!keys) {
    error = "the server at " + where +
            " did not prove it has the key: not our console, or tampered with";
    return false;
  }
  sealer_.emplace(keys->send);
  opener_.emplace(keys->receive);
  return true;
}

bool ConsoleClient::send(std::string_view message, std::string& error) {
  std::string frame;
  sealer_->seal(message, frame);
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n = ::send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = std::string("writing to the console: ") + std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ConsoleClient::receive(std::string& message, std::string& error) {
  uint8_t length[rc::kLengthBytes];
  if (!read_exact(length, sizeof length, -1, error)) return false;
  const size_t n = rc::FrameOpener::body_length(length);
  if (n == 0) {
    error = "the console sent a frame over the size cap";
    return false;
  }
  std::string body(n, '\0');
  if (!read_exact(body.data(), n, -1, error)) return false;
  if (!opener_->open(length, reinterpret_cast<const uint8_t*>(body.data()), n, message)) {
    error = "a frame from the console did not open (tampered with?)";
    return false;
  }
  return true;
}

ConsoleClient::Answer ConsoleClient::run(std::string_view code, bool json,
                                         const std::function<void(std::string_view)>& output) {
  Answer a;
  if (code.size() > rc::kMaxPlaintext - 2) {
    a.error = "the line is longer than 65534 bytes";
    return a;
  }
  std::string m(1, static_cast<char>(rc::MessageType::kRun));
  m += static_cast<char>(json ? rc::kRunJson : 0);
  m += code;
  if (!send(m, a.error)) {
    a.broken = true;
    return a;
  }
  for (;;) {
    std::string reply;
    if (!receive(reply, a.error)) {
      a.broken = true;
      return a;
    }
    const auto type = static_cast<rc::MessageType>(static_cast<uint8_t>(reply[0]));
    if (type == rc::MessageType::kOutput) {
      output(std::string_view(reply).substr(1));
    } else if (type == rc::MessageType::kDone && reply.size() >= 2) {
      a.ok = reply[1] == 0;
      a.error = reply.substr(2);
      return a;
    } else {
      a.broken = true;
      a.error = "the console sent a message this client does not know";
      return a;
    }
  }
}

std::optional<std::vector<std::string>> ConsoleClient::complete(std::string_view before,
                                                                std::string& error) {
  std::string m(1, static_cast<char>(rc::MessageType::kComplete));
  m += before.substr(0, rc::kMaxPlaintext - 1);
  std::string reply;
  if (!send(m, error) || !receive(reply, error)) return std::nullopt;
  if (static_cast<rc::MessageType>(static_cast<uint8_t>(reply[0])) !=
      rc::MessageType::kCandidates) {
    error = "the console answered a completion with something else";
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::string_view rest = std::string_view(reply).substr(1);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    out.emplace_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace dnspc::cli
