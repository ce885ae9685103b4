// Loading XDP programs and running them with BPF_PROG_TEST_RUN: verdicts,
// maps read and written by the program, and the verifier's refusals.
#include <catch2/catch.hpp>

#include "bpf_fixtures.h"
#include "dnspc/runtime/xdp.h"

using namespace dnspc::xdp;
using namespace xdp_fixtures;

namespace {

std::unique_ptr<Program> must_load(const std::vector<uint64_t>& instructions, const char* name) {
  std::string error;
  auto program = Program::load(instructions, name, error);
  INFO(error);
  REQUIRE(program);
  return program;
}

}  // namespace

TEST_CASE("the smallest program loads and passes the frame through unchanged") {
  auto program = must_load(pass(), "test_pass");
  CHECK(program->fd() >= 0);
  CHECK(program->id() != 0);
  CHECK(program->verifier_stats().program_instructions == 2);
  CHECK(program->verifier_stats().instructions_processed == 2);
  std::vector<uint8_t> frame = udp_frame();
  TestRun run = program->test_run(frame);
  INFO(run.error);
  REQUIRE(run.error.empty());
  CHECK(run.retval == XDP_PASS);
  CHECK(run.output == frame);
}

TEST_CASE("a program reads its verdict from an array map by descriptor") {
  std::string error;
  auto verdicts = Map::create({MapType::array, 4, 4, 1, "verdict"}, error);
  REQUIRE(verdicts);
  auto program = must_load(verdict_from(verdicts->fd()), "test_verdict");
  // The program holds its own reference: the map may go from user space.
  std::vector<uint8_t> frame = udp_frame();
  uint32_t zero = 0;
  for (uint32_t verdict : {XDP_DROP, XDP_PASS, XDP_TX, XDP_ABORTED}) {
    REQUIRE(verdicts->update(bytes_of(zero), bytes_of(verdict), error));
    TestRun run = program->test_run(frame);
    REQUIRE(run.error.empty());
    CHECK(run.retval == verdict);
  }
}

TEST_CASE("a program's per-CPU counter sums to its runs") {
  std::string error;
  auto counters = Map::create({MapType::percpu_array, 4, 8, 1, "counters"}, error);
  REQUIRE(counters);
  auto program = must_load(count_then(counters->fd(), XDP_DROP), "test_count");
  std::vector<uint8_t> frame = udp_frame();
  TestRun run = program->test_run(frame, 1000);
  REQUIRE(run.error.empty());
  CHECK(run.retval == XDP_DROP);
  CHECK(counters->sum_u64(0) == 1000);
  run = program->test_run(frame, 24);
  CHECK(counters->sum_u64(0) == 1024);
  CHECK(counters->sum_u64_all() == std::vector<uint64_t>{1024});
}

TEST_CASE("a refused program reports the verifier's reason") {
  std::string error;
  auto program = Program::load(reads_uninitialised(), "test_refused", error);
  CHECK_FALSE(program);
  INFO(error);
  CHECK(
      error.starts_with("the kernel's verifier refused XDP program test_refused (EACCES: "
                        "Permission denied): R2 !read_ok"));
  CHECK(error.find("the verifier's last lines:") != std::string::npos);
  CHECK(error.find("r0 = r2") != std::string::npos);  // the instruction, from the trace
}

TEST_CASE("a refusal at the end of a long program still reports the reason") {
  // The trace of 200,000 instructions is several MiB: past the first log
  // buffer. The reason is at its end.
  std::string error;
  auto program = Program::load(reads_uninitialised(200'000), "test_long", error);
  CHECK_FALSE(program);
  INFO(error.substr(0, 2000));
  CHECK(error.find("R2 !read_ok") != std::string::npos);
}

TEST_CASE("a long program that passes reports the instructions the verifier processed") {
  std::vector<uint64_t> instructions(10'000, mov_imm(BPF_REG_0, XDP_PASS));
  instructions.push_back(exit_insn());
  auto program = must_load(instructions, "test_straight");
  CHECK(program->verifier_stats().instructions_processed == 10'001);
  CHECK(program->test_run(udp_frame()).retval == XDP_PASS);
}

TEST_CASE("a reference to a descriptor that is no map is refused with the kernel's words") {
  std::vector<uint64_t> instructions;
  lookup_first(instructions, 0);  // fd 0: standard input, not a map
  instructions.push_back(mov_imm(BPF_REG_0, XDP_PASS));
  instructions.push_back(exit_insn());
  std::string error;
  CHECK_FALSE(Program::load(instructions, "test_bad_fd", error));
  INFO(error);
  CHECK(error.starts_with("the kernel's verifier refused XDP program test_bad_fd"));
  CHECK(error.find("fd 0") != std::string::npos);
}

TEST_CASE("a test run on a frame shorter than an Ethernet header says so") {
  auto program = must_load(pass(), "test_short");
  std::vector<uint8_t> tiny(4, 0);
  TestRun run = program->test_run(tiny);
  CHECK(run.error ==
        "test run of XDP program test_short on a 4 B frame: EINVAL: Invalid argument (shorter "
        "than an Ethernet header)");
}

TEST_CASE("this process can use XDP (the tests would have been skipped otherwise)") {
  CHECK(support_problem().empty());
}
