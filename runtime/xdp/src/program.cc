// An XDP program from its instructions: the load with the verifier's log,
// and BPF_PROG_TEST_RUN for the differential tests and benchmarks.
#include <bpf/bpf.h>
#include <fmt/format.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "dnspc/runtime/xdp.h"
#include "libbpf_glue.h"

namespace dnspc::xdp {

namespace {

// The verifier's log levels (include/linux/bpf_verifier.h; not in the uapi).
constexpr uint32_t kLogLevel1 = 1;  // the path that failed, instruction by instruction
constexpr uint32_t kLogStats = 4;   // "processed N insns", and any refusal's reason
constexpr size_t kStatsLogSize = 64 << 10;
constexpr size_t kTraceLogSize = 1 << 20;
constexpr size_t kMaxLogSize = 16 << 20;
constexpr size_t kTailLines = 8;

struct Attempt {
  int fd = -1;  // or -errno
  std::string log;
};

// One load with `level`; grows the log buffer while the kernel says it
// overflowed (-ENOSPC: kernels before 6.4 also fail a good program so).
// Since 6.4 the log rotates and keeps its end, the part that says why.
// The BTF and func_info of a program with subprograms.
struct FunctionInfo {
  int btf_fd = -1;
  std::vector<bpf_func_info> records;
};

Attempt load_once(std::span<const uint64_t> instructions, const std::string& name, uint32_t level,
                  size_t size, const FunctionInfo& functions) {
  Attempt attempt;
  for (;;) {
    std::string log(size, '\0');
    bpf_prog_load_opts opts{};
    opts.sz = sizeof opts;
    if (functions.btf_fd >= 0) {
      opts.prog_btf_fd = static_cast<uint32_t>(functions.btf_fd);
      opts.func_info = functions.records.data();
      opts.func_info_cnt = static_cast<uint32_t>(functions.records.size());
      opts.func_info_rec_size = sizeof(bpf_func_info);
    }
    opts.log_level = level;
    opts.log_size = static_cast<uint32_t>(size);
    opts.log_buf = log.data();
    attempt.fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name.c_str(), "GPL",
                               reinterpret_cast<const bpf_insn*>(instructions.data()),
                               instructions.size(), &opts);
    log.resize(std::strlen(log.c_str()));
    attempt.log = std::move(log);
    if (attempt.fd != -ENOSPC || size >= kMaxLogSize) return attempt;
    size *= 2;
  }
}

std::vector<std::string_view> log_lines(std::string_view log) {
  std::vector<std::string_view> lines;
  while (!log.empty()) {
    size_t end = log.find('\n');
    std::string_view line = log.substr(0, end);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string_view::npos) break;
    log.remove_prefix(end + 1);
  }
  return lines;
}

bool is_stats_line(std::string_view line) {
  return line.starts_with("processed ") || line.starts_with("verification time") ||
         line.starts_with("stack depth");
}

uint64_t processed_instructions(std::string_view log) {
  for (std::string_view line : log_lines(log)) {
    if (!line.starts_with("processed ")) continue;
    uint64_t n = 0;
    for (char c : line.substr(10)) {
      if (c < '0' || c > '9') break;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return n;
  }
  return 0;
}

std::string load_error(const std::string& name, size_t count, int rc, std::string_view log) {
  std::vector<std::string_view> lines;
  for (std::string_view line : log_lines(log)) {
    if (!is_stats_line(line)) lines.push_back(line);
  }
  std::string why = detail::errno_text(rc);
  if (lines.empty()) {
    if (rc == -EPERM) {
      why += ": loading BPF programs needs CAP_BPF and CAP_NET_ADMIN (or root)";
    } else if (rc == -E2BIG) {
      why += ": more instructions than the kernel takes";
    }
    return fmt::format("cannot load XDP program {} ({} instructions): {}", name, count, why);
  }
  std::string out =
      fmt::format("the kernel's verifier refused XDP program {} ({}): {}", name, why, lines.back());
  out += "\n  the verifier's last lines:";
  size_t from = lines.size() > kTailLines ? lines.size() - kTailLines : 0;
  for (size_t i = from; i < lines.size(); ++i)
    fmt::format_to(std::back_inserter(out), "\n    {}", lines[i]);
  return out;
}

uint32_t program_id(int fd) {
  bpf_prog_info info{};
  uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0) return 0;
  return info.id;
}

}  // namespace

Program::Program(int fd, uint32_t id, std::string name, VerifierStats stats)
    : fd_(fd), id_(id), name_(std::move(name)), stats_(stats) {}

Program::~Program() {
  ::close(fd_);
}

std::unique_ptr<Program> Program::load(std::span<const uint64_t> instructions, std::string name,
                                       std::string& error) {
  return load(instructions, std::move(name), Functions{}, error);
}

std::unique_ptr<Program> Program::load(std::span<const uint64_t> instructions, std::string name,
                                       const Functions& functions, std::string& error) {
  detail::capture_libbpf_messages();
  FunctionInfo info;
  if (!functions.btf.empty()) {
    std::string btf_log(64 << 10, '\0');
    bpf_btf_load_opts btf_opts{};
    btf_opts.sz = sizeof btf_opts;
    btf_opts.log_buf = btf_log.data();
    btf_opts.log_level = 1;
    btf_opts.log_size = static_cast<uint32_t>(btf_log.size());
    info.btf_fd = bpf_btf_load(functions.btf.data(), functions.btf.size(), &btf_opts);
    if (info.btf_fd < 0) {
      btf_log.resize(std::strlen(btf_log.c_str()));
      error = fmt::format("the kernel refused XDP program {}'s BTF: {}\n{}", name,
                          detail::errno_text(info.btf_fd), btf_log);
      return nullptr;
    }
    for (size_t i = 0; i < functions.starts.size(); ++i) {
      info.records.push_back({functions.starts[i], functions.first_type + static_cast<uint32_t>(i)});
    }
  }
  // The program holds its own reference to the BTF once loaded.
  struct CloseBtf {
    int fd;
    ~CloseBtf() {
      if (fd >= 0) ::close(fd);
    }
  } close_btf{info.btf_fd};
  std::string kernel_name = detail::kernel_object_name(name);
  // Stats only first: small, and enough for a program that passes. A
  // refused one is loaded again with the trace, whose end says where.
  Attempt attempt = load_once(instructions, kernel_name, kLogStats, kStatsLogSize, info);
  if (attempt.fd < 0 && attempt.fd != -EPERM && attempt.fd != -E2BIG) {
    Attempt traced = load_once(instructions, kernel_name, kLogLevel1 | kLogStats, kTraceLogSize, info);
    if (traced.fd >= 0 || !traced.log.empty()) attempt = std::move(traced);
  }
  if (attempt.fd < 0) {
    error = load_error(name, instructions.size(), attempt.fd, attempt.log);
    return nullptr;
  }
  VerifierStats stats;
  stats.instructions_processed = processed_instructions(attempt.log);
  stats.program_instructions = instructions.size();
  return std::unique_ptr<Program>(
      new Program(attempt.fd, program_id(attempt.fd), std::move(name), stats));
}

TestRun Program::test_run(std::span<const uint8_t> packet, int repeat) const {
  TestRun run;
  // Room for a program that grows the frame (bpf_xdp_adjust_tail): the
  // kernel's test frames are at most a page.
  run.output.resize(packet.size() + 4096);
  bpf_test_run_opts opts{};
  opts.sz = sizeof opts;
  opts.data_in = packet.data();
  opts.data_size_in = static_cast<uint32_t>(packet.size());
  opts.data_out = run.output.data();
  opts.data_size_out = static_cast<uint32_t>(run.output.size());
  opts.repeat = repeat;
  int rc = bpf_prog_test_run_opts(fd_, &opts);
  if (rc != 0) {
    run.output.clear();
    run.error = fmt::format("test run of XDP program {} on a {} B frame: {}", name_, packet.size(),
                            detail::errno_text(rc));
    if (rc == -EINVAL && packet.size() < 14) run.error += " (shorter than an Ethernet header)";
    return run;
  }
  run.retval = opts.retval;
  run.duration_ns = opts.duration;
  run.output.resize(opts.data_size_out);
  return run;
}

}  // namespace dnspc::xdp
