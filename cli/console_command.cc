// `dnspc console`: attaches to a running instance's console (docs/console.md).
// Interactive on a terminal (libedit: line editing, history, Tab completion
// asked of the server); one line with -e; lines from stdin otherwise. The
// answers go to stdout, everything else (errors, the banner) to stderr, so
// `dnspc console -e 'showServers()' --json | jq` sees only answers.
#include <fcntl.h>
#include <histedit.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <span>
#include <string>

#include "console_client.h"
#include "dnspc/runtime/console_functions.h"
#include "exit_codes.h"

namespace dnspc::cli {

namespace rc = runtime::console;

namespace {

constexpr int kHistoryEntries = 1000;

struct Options {
  std::string host = "127.0.0.1:5199";
  std::string key_file;
  std::string code;
  bool has_code = false;
  bool json = false;
  bool make_key = false;
};

int usage_error(const std::string& what) {
  fmt::print(stderr,
             "dnspc console: {}\nusage: dnspc console [--host ADDR:PORT] [--key-file FILE] [-e "
             "CODE] [--json]\n"
             "       dnspc console --make-key\n",
             what);
  return kExitUsage;
}

void print_output(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// Runs one line; returns the exit code it earns.
int run_one(ConsoleClient& client, const std::string& line, bool json) {
  ConsoleClient::Answer a = client.run(line, json, print_output);
  if (a.broken) {
    fmt::print(stderr, "dnspc console: {}\n", a.error);
    return kExitInternal;
  }
  if (!a.ok) {
    fmt::print(stderr, "{}\n", a.error);
    return kExitBadInput;
  }
  return kExitOk;
}

// ---------------------------------------------------------------- libedit

ConsoleClient* g_client =
    nullptr;  // for the completion callback, which gets no user pointer of ours

std::string common_prefix(const std::vector<std::string>& v) {
  std::string p = v.front();
  for (const std::string& s : v) {
    size_t i = 0;
    while (i < p.size() && i < s.size() && p[i] == s[i]) ++i;
    p.resize(i);
  }
  return p;
}

unsigned char complete(EditLine* el, int) {
  const LineInfo* li = el_line(el);
  const std::string before(li->buffer, static_cast<size_t>(li->cursor - li->buffer));
  std::string error;
  auto candidates = g_client->complete(before, error);
  if (!candidates) {
    fmt::print(stderr, "\ndnspc console: {}\n", error);
    return CC_REDISPLAY;
  }
  if (candidates->empty()) return CC_ERROR;  // a beep
  const std::string_view word = rc::completion_word(before);
  const std::string prefix = common_prefix(*candidates);
  if (prefix.size() > word.size()) {
    std::string rest = prefix.substr(word.size());
    if (candidates->size() == 1 && !word.empty() && rest.empty()) return CC_REFRESH;
    el_insertstr(el, rest.c_str());
    return CC_REFRESH;
  }
  if (candidates->size() == 1) return CC_REFRESH;
  // Nothing more in common: show them under the line.
  std::string list = "\n";
  for (const std::string& c : *candidates) list += c + "  ";
  list += "\n";
  print_output(list);
  return CC_REDISPLAY;
}

const char* prompt(EditLine*) {
  return "> ";
}

std::string history_path() {
  if (const char* p = std::getenv("DNSPC_CONSOLE_HISTORY")) return p;
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.dnspc_console_history" : std::string();
}

// The history, at most kHistoryEntries lines, in a file only its owner reads.
void save_history(History* h, const std::string& path) {
  if (path.empty()) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ::fchmod(fd, 0600);  // an older file may have been made wider
  FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return;
  }
  HistEvent ev;
  history(h, &ev, H_SAVE_FP, f);
  std::fclose(f);
}

int interactive(ConsoleClient& client, const Options& o) {
  g_client = &client;
  EditLine* el = el_init("dnspc", stdin, stdout, stderr);
  History* h = history_init();
  HistEvent ev;
  history(h, &ev, H_SETSIZE, kHistoryEntries);
  history(h, &ev, H_SETUNIQUE, 1);
  const std::string path = history_path();
  if (!path.empty()) history(h, &ev, H_LOAD, path.c_str());
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_PROMPT, prompt);
  el_set(el, EL_HIST, history, h);
  el_set(el, EL_ADDFN, "dnspc-complete", "complete from the running instance", complete);
  el_set(el, EL_BIND, "^I", "dnspc-complete", nullptr);
  el_set(el, EL_SIGNAL, 1);
  fmt::print(stderr, "dnspc console on {}: help() lists the functions; Ctrl-D leaves\n", o.host);
  int code = kExitOk;
  for (;;) {
    int count = 0;
    const char* raw = el_gets(el, &count);
    if (!raw || count <= 0) break;
    std::string line(raw, static_cast<size_t>(count));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    history(h, &ev, H_ENTER, line.c_str());
    save_history(h, path);
    if (line == "quit" || line == "exit") break;
    const int r = run_one(client, line, o.json);
    if (r == kExitInternal) {
      code = r;
      break;
    }
  }
  el_end(el);
  history_end(h);
  return code;
}

}  // namespace

int run_console(std::span<char* const> args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= args.size()) return nullptr;
      (void)name;
      return args[++i];
    };
    if (a == "--host") {
      const char* v = value("--host");
      if (!v) return usage_error("--host needs ADDR:PORT");
      o.host = v;
    } else if (a == "--key-file") {
      const char* v = value("--key-file");
      if (!v) return usage_error("--key-file needs a file");
      o.key_file = v;
    } else if (a == "-e") {
      const char* v = value("-e");
      if (!v) return usage_error("-e needs Lua code");
      o.code = v;
      o.has_code = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--make-key") {
      o.make_key = true;
    } else {
      return usage_error(fmt::format("unknown argument '{}'", a));
    }
  }
  if (o.make_key) {
    fmt::print("{}\n", rc::encode_key(rc::random_key()));
    return kExitOk;
  }
  auto address = NetAddress::parse(o.host);
  if (!address || address->port == 0) {
    return usage_error(
        fmt::format("'{}' is not ADDR:PORT (like 127.0.0.1:5199 or [::1]:5199)", o.host));
  }
  std::string error;
  std::optional<rc::Key> key =
      o.key_file.empty() ? rc::load_key("", error) : rc::load_key_file(o.key_file, error);
  if (!key) {
    fmt::print(stderr, "dnspc console: {}\n", error);
    return kExitUsage;
  }
  ConsoleClient client;
  if (!client.open(*address, *key, error)) {
    fmt::print(stderr, "dnspc console: {}\n", error);
    return kExitInternal;
  }
  if (o.has_code) return run_one(client, o.code, o.json);
  if (isatty(STDIN_FILENO)) return interactive(client, o);
  // Lines from a pipe: each run in turn; the worst outcome is the exit code.
  int code = kExitOk;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const int r = run_one(client, line, o.json);
    if (r == kExitInternal) return r;
    if (r != kExitOk) code = r;
  }
  return code;
}

}  // namespace dnspc::cli
