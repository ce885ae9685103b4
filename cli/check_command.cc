// `dnspc check FILE...`: parse and check policies; opens no socket.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <deque>
#include <cstring>
#include <string>
#include <vector>

#include "check_heap.h"
#include "command.h"
#include "dnspc/pipeline/pipeline.h"
#include "exit_codes.h"
#include "kernel_report.h"

namespace dnspc::cli {

namespace {

std::string plural(size_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

int run_check(std::span<char* const> args) {
  std::string format = "text";
  bool werror = false;
  bool stats = false;
  size_t max_diagnostics = diag::Diagnostics::kDefaultKept;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--werror") {
      werror = true;
    } else if (a == "--stats") {
      stats = true;
    } else if (a == "--max-diagnostics" && i + 1 < args.size()) {
      char* end = nullptr;
      unsigned long long n = std::strtoull(args[++i], &end, 10);
      if (!end || *end != '\0' || n == 0) {
        fmt::print(stderr, "dnspc check: --max-diagnostics takes a count of at least 1\n");
        return kExitUsage;
      }
      max_diagnostics = static_cast<size_t>(n);
    } else if (a == "--format" && i + 1 < args.size()) {
      format = args[++i];
    } else if (a.starts_with("--format=")) {
      format = std::string(a.substr(9));
    } else if (a.starts_with("-") && a != "-") {
      fmt::print(stderr, "dnspc check: unknown option '{}'\n", a);
      return kExitUsage;
    } else {
      files.emplace_back(a);
    }
  }
  if (format != "text" && format != "json") {
    fmt::print(stderr, "dnspc check: --format takes text or json, not '{}'\n", format);
    return kExitUsage;
  }
  if (files.empty()) {
    fmt::print(stderr, "usage: dnspc check [--format text|json] [--werror] [--max-diagnostics N] FILE...\n");
    return kExitUsage;
  }

  // check takes about 130 bytes of heap per byte of policy. Huge pages stop
  // at 256 MiB: at 100k rules (800 MiB) with huge pages throughout, finding
  // free 2 MiB pages on a busy machine sometimes cost over a second of
  // kernel time.
  uintmax_t policy_bytes = 0;
  for (const std::string& file : files) {
    std::error_code ec;
    uintmax_t size = std::filesystem::file_size(file, ec);
    if (!ec) policy_bytes += size;
  }
  reserve_bulk_heap(
      std::clamp<uintmax_t>(policy_bytes * 256, uintmax_t{64} << 20, uintmax_t{256} << 20));
  diag::SourceManager sources;
  diag::Diagnostics diags(sources, max_diagnostics);
  bool unreadable = false;
  std::deque<pipeline::CompileResult> results;  // kept to the end: see std::_Exit below
  std::vector<std::string> summaries;
  for (const std::string& file : files) {
    size_t errors = diags.error_count(), warnings = diags.warning_count();
    // The whole pipeline short of machine code, so that nothing check
    // accepts can fail to load.
    frontend::LoadOptions options;
    options.keep_parse_state = true;  // freed by the exit, like everything else
    options.thread_start = prepare_thread_heap;
    pipeline::CompileResult& r = results.emplace_back(pipeline::compile_file(file, diags, options));
    if (r.status == frontend::LoadStatus::kUnreadable) {
      fmt::print(stderr, "dnspc check: {}\n", r.io_error);
      unreadable = true;
      continue;
    }
    if (stats) {
      fmt::print(stderr, "{}: read {:.3f} s, parse {:.3f} s, sema {:.3f} s, lower {:.3f} s, optimise {:.3f} s\n",
                 file, r.times.front.read_s, r.times.front.parse_s, r.times.front.sema_s, r.times.lower_s,
                 r.times.optimize_s);
    }
    // What the kernel fast path would run: a note, never a reason to fail.
    if (r.policy) note_kernel_prefix(*r.policy, diags);
    size_t new_errors = diags.error_count() - errors;
    size_t new_warnings = diags.warning_count() - warnings;
    if (r.policy) {
      size_t servers = 0;
      const sema::Model& model = r.policy->model;
      for (auto& p : model.pools) servers += p.servers.size();
      summaries.push_back(fmt::format("{}: ok: {}, {}, {}{}", file, plural(model.rules.size(), "rule"),
                                      plural(model.pools.size(), "pool"), plural(servers, "server"),
                                      new_warnings ? fmt::format(", {} warning{}", new_warnings,
                                                                 new_warnings == 1 ? "" : "s")
                                                   : ""));
    } else {
      summaries.push_back(fmt::format("{}: {} error{}{}", file, new_errors, new_errors == 1 ? "" : "s",
                                      new_warnings ? fmt::format(", {} warning{}", new_warnings,
                                                                 new_warnings == 1 ? "" : "s")
                                                   : ""));
    }
  }
  diags.sort();
  if (format == "json") {
    fmt::print("{}", diag::render_json(diags));
  } else {
    bool color = isatty(STDERR_FILENO) && std::getenv("NO_COLOR") == nullptr;
    fmt::print(stderr, "{}", diag::render_text(diags, color));
    for (const std::string& s : summaries) fmt::print("{}\n", s);
  }
  int code = kExitOk;
  if (diags.has_errors() || (werror && diags.warning_count() > 0)) code = kExitBadInput;
  if (unreadable) code = kExitInternal;
  // Like clang's -disable-free: everything check built (at 100k rules,
  // hundreds of MB of small objects) dies with the process; freeing it one
  // object at a time would only delay the exit.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}

}  // namespace dnspc::cli
