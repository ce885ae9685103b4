// `dnspc hash-password`: reads a password (or an API key) and prints the
// libsodium crypto_pwhash_str hash that DNSPC_WEB_PASSWORD and
// DNSPC_WEB_API_KEY take (docs/web.md). From a terminal it prompts twice
// without echo; otherwise it reads stdin, one trailing newline dropped, so
// `printf %s "$PW" | dnspc hash-password` and `dnspc hash-password < file`
// both work. The secret is never an argument: arguments show in `ps`.
#include <fmt/core.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "command.h"
#include "dnspc/runtime/web_auth.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace {

constexpr size_t kMaxSecret = 4096;

// One line from the terminal with echo off (restored whatever happens).
bool read_hidden(const char* prompt, std::string& out) {
  fmt::print(stderr, "{}", prompt);
  std::fflush(stderr);
  termios old{};
  const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  const bool ok = static_cast<bool>(std::getline(std::cin, out));
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  fmt::print(stderr, "\n");
  return ok;
}

void wipe(std::string& s) {
  sodium_memzero(s.data(), s.size());
}

}  // namespace

int run_hash_password(std::span<char* const> args) {
  if (!args.empty()) {
    fmt::print(
        stderr,
        "dnspc hash-password: takes no arguments (the password comes from stdin, never the command "
        "line)\nusage: dnspc hash-password\n");
    return kExitUsage;
  }
  if (!runtime::web_crypto_init()) {
    fmt::print(stderr, "dnspc hash-password: libsodium cannot start\n");
    return kExitInternal;
  }
  std::string secret;
  if (isatty(STDIN_FILENO)) {
    std::string again;
    if (!read_hidden("password: ", secret) || !read_hidden("again: ", again)) {
      fmt::print(stderr, "dnspc hash-password: no password read\n");
      return kExitBadInput;
    }
    const bool same = secret == again;
    wipe(again);
    if (!same) {
      wipe(secret);
      fmt::print(stderr, "dnspc hash-password: the two passwords differ; nothing printed\n");
      return kExitBadInput;
    }
  } else {
    secret.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (secret.ends_with('\n')) secret.pop_back();
    if (secret.ends_with('\r')) secret.pop_back();
  }
  if (secret.empty()) {
    fmt::print(stderr, "dnspc hash-password: the password is empty; give one on stdin\n");
    return kExitBadInput;
  }
  if (secret.size() > kMaxSecret) {
    wipe(secret);
    fmt::print(stderr, "dnspc hash-password: the password is longer than {} bytes\n", kMaxSecret);
    return kExitBadInput;
  }
  const std::string hash = runtime::hash_password(secret);
  wipe(secret);
  if (hash.empty()) {
    fmt::print(stderr, "dnspc hash-password: hashing failed (it needs 64 MiB of memory)\n");
    return kExitInternal;
  }
  fmt::print("{}\n", hash);
  return kExitOk;
}

}  // namespace dnspc::cli
