// The front end's bounds on hostile or generated input: nesting, name
// lengths, the number and width of diagnostics, and the files a policy
// names (regular files only, sizes and line lengths bounded).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dnspc/diag/read_file.h"
#include "dnspc/parse/parse.h"
#include "front_test_support.h"

using front_test::load;
using front_test::load_wrapped;
using front_test::Loaded;

namespace {

std::string nested(size_t levels, const std::string& test = "rd") {
  return std::string(levels, '(') + test + std::string(levels, ')');
}

std::string temp_dir() {
  char path[] = "/tmp/dnspc-limits-XXXXXX";
  REQUIRE(mkdtemp(path) != nullptr);
  return path;
}

}  // namespace

TEST_CASE("nesting up to the limit is accepted, one level more is a located error", "[front][limits]") {
  constexpr size_t limit = dnspc::parse::kMaxConditionNesting;
  CHECK_CLEAN(load_wrapped("rule r: " + nested(limit) + " => drop;"));
  Loaded deep = load_wrapped("rule r: " + nested(limit + 1) + " => drop;");
  const auto& d = deep.first("nesting-too-deep");
  CHECK(deep.slice(d.range) == "(");
  CHECK(deep.begin(d.range).column == 9 + limit);  // the parenthesis one past the limit
  CHECK(deep.diags().error_count() == 1);
}

TEST_CASE("chains of not count as nesting; groups they apply to close them", "[front][limits]") {
  constexpr size_t limit = dnspc::parse::kMaxConditionNesting;
  std::string nots;
  for (size_t i = 0; i < limit + 1; ++i) nots += "not ";
  CHECK(load_wrapped("rule r: " + nots + "rd => drop;").has("nesting-too-deep"));
  // As many nots in a flat and-chain are no nesting at all.
  std::string flat = "rule r: not rd";
  for (size_t i = 0; i < 4 * limit; ++i) flat += " and not cd";
  CHECK_CLEAN(load_wrapped(flat + " => drop;"));
  // Deep nesting in one statement does not carry into the next.
  // (Two different tests: the same one twice is a shadowed rule.)
  std::string text = "rule a: " + nested(limit) + " => drop;\nrule b: " + nested(limit, "cd") + " => refuse;";
  CHECK(load_wrapped(text).clean());
}

TEST_CASE("37,000 nested parentheses: a diagnostic, not a stack overflow", "[front][limits]") {
  Loaded l = load_wrapped("rule r: " + nested(37000) + " => drop;");
  CHECK(l.has("nesting-too-deep"));
}

TEST_CASE("a flat and-chain of 100,000 tests is analysed in linear time and still shadows", "[front][limits]") {
  // Each `and` used to copy the conjunction built so far (sema's shadowing
  // and the optimiser's DNF): 100,000 tests took seconds, and a 256 MiB
  // policy could hold millions.
  std::string chain = "rd";
  for (int i = 0; i < 100000; ++i) chain += i % 2 ? " and rd" : " and cd";
  const auto start = std::chrono::steady_clock::now();
  Loaded l = load_wrapped("rule a: " + chain + " => drop;\nrule b: rd and cd and qtype == A => refuse;");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(l.text());
  CHECK(l.ok());
  REQUIRE(l.count("shadowed-rule") == 1);
  CHECK(l.slice(l.first("shadowed-rule").range) == "b");
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(seconds < 3.0);  // about 0.5 s; over 5 s before
#endif
  (void)seconds;
}

TEST_CASE("a name over the identifier limit is name-too-long", "[front][limits]") {
  std::string name(dnspc::parse::kMaxIdentifierLength + 1, 'r');
  Loaded l = load_wrapped("rule " + name + ": rd => drop;");
  const auto& d = l.first("name-too-long");
  CHECK(l.slice(d.range) == name);
  CHECK_CLEAN(load_wrapped("rule " + std::string(dnspc::parse::kMaxIdentifierLength, 'r') + ": rd => drop;"));
}

TEST_CASE("diagnostics are capped; the counts still add up", "[front][limits]") {
  std::string text = "pool main { server 192.0.2.1; }\n";
  for (int i = 0; i < 500; ++i) text += "rule dup: rd => drop;\n";
  text += "rule default: true => pool main;\n";
  Loaded l = load(text);
  CHECK(l.diags().error_count() == 499);
  CHECK(l.diags().all().size() == dnspc::diag::Diagnostics::kDefaultKept);
  CHECK(l.diags().omitted_count() == 499 - dnspc::diag::Diagnostics::kDefaultKept);
  CHECK(l.text().find("more errors and 0 more warnings not shown") != std::string::npos);
}

TEST_CASE("notes are counted apart, kept past the cap, and neither errors nor warnings", "[front][limits]") {
  dnspc::diag::SourceManager sources;
  dnspc::diag::Diagnostics diags(sources, 2);
  for (int i = 0; i < 3; ++i) diags.warning("w", {}, "warning");
  diags.note("n", {}, "a remark");
  CHECK(diags.warning_count() == 3);
  CHECK(diags.error_count() == 0);
  CHECK(diags.note_count() == 1);
  REQUIRE(diags.all().size() == 3);  // two warnings and the note
  CHECK(diags.all()[2].severity == dnspc::diag::Severity::kNote);
  CHECK(diags.omitted_count() == 1);
  std::string text = dnspc::diag::render_text(diags);
  CHECK(text.find("note: a remark [n]") != std::string::npos);
  CHECK(text.find("0 more errors and 1 more warnings not shown (only the first 2 are)") != std::string::npos);
  std::string json = dnspc::diag::render_json(diags);
  CHECK(json.find("\"warnings\":3,\"notes\":1,\"omitted\":1") != std::string::npos);
  // Joined from another engine (a chunk of a split parse), a note is kept too.
  dnspc::diag::Diagnostics joined(sources, 2);
  for (int i = 0; i < 2; ++i) joined.warning("w", {}, "warning");
  joined.append(diags);
  CHECK(joined.note_count() == 1);
  CHECK(joined.all().size() == 3);
}

TEST_CASE("messages and excerpts are clipped: a huge name is never echoed whole", "[front][limits]") {
  std::string huge(1'000'000, 'x');
  Loaded l = load_wrapped("rule r: qname == \"" + huge + ".\" => drop;");
  REQUIRE(l.diags().error_count() > 0);
  for (const auto& d : l.diags().all()) CHECK(d.message.size() <= dnspc::diag::Diagnostics::kMaxMessageBytes + 3);
  CHECK(l.text().size() < 4000);
}

TEST_CASE("read_regular_file refuses special files and files over the limit", "[front][limits][files]") {
  std::string error;
  CHECK_FALSE(dnspc::diag::read_regular_file("/dev/zero", 1 << 20, error));
  CHECK(error == "it is a character device, not a regular file");
  CHECK_FALSE(dnspc::diag::read_regular_file("/tmp", 1 << 20, error));
  CHECK(error == "it is a directory, not a regular file");
  std::string dir = temp_dir();
  std::string fifo = dir + "/fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_FALSE(dnspc::diag::read_regular_file(fifo, 1 << 20, error));  // returns: no writer needed
  CHECK(error == "it is a FIFO, not a regular file");
  std::string big = dir + "/big";
  int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, 3 << 20) == 0);  // sparse: costs no disk
  ::close(fd);
  CHECK_FALSE(dnspc::diag::read_regular_file(big, 1 << 20, error));
  CHECK(error == "it is 3.0 MiB and the limit is 1.0 MiB");
  auto text = dnspc::diag::read_regular_file(big, 4 << 20, error);
  REQUIRE(text);
  CHECK(text->size() == size_t{3} << 20);
  std::remove(big.c_str());
  std::remove(fifo.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("set files must be regular files with sane lines", "[front][limits][files]") {
  Loaded zero = load_wrapped("netmasks z = file \"/dev/zero\";\nrule r: src in z => drop;");
  const auto& d = zero.first("bad-file");
  CHECK(d.message.find("character device") != std::string::npos);
  std::string dir = temp_dir();
  std::string path = dir + "/long.txt";
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  std::string line(dnspc::diag::kMaxSetFileLineBytes + 1, 'a');
  std::fprintf(f, "10.0.0.0/8\n%s\n", line.c_str());
  std::fclose(f);
  Loaded long_line = load_wrapped("netmasks l = file \"" + path + "\";\nrule r: src in l => drop;");
  const auto& ll = long_line.first("line-too-long");
  CHECK(long_line.begin(ll.range).line == 2);
  CHECK(long_line.diags().error_count() == 1);
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("control bytes from a file are not printed raw", "[front][limits]") {
  // A set file holding a terminal escape (set the title, turn text red):
  // the message quotes the entry and the snippet shows its line.
  dnspc::diag::SourceManager sources;
  const std::string line = "\x1b]0;pwned\x07\x1b[31mRED\tx";
  dnspc::diag::FileId file = sources.add("set.txt", line + "\n");
  dnspc::diag::Diagnostics diags(sources);
  const dnspc::diag::SourceRange whole{file, 0, static_cast<uint32_t>(line.size())};
  diags.error("bad-set-entry", whole, "'" + line + "' is not a valid netmasks entry");
  for (bool color : {false, true}) {
    std::string text = dnspc::diag::render_text(diags, color);
    CHECK(text.find('\x07') == std::string::npos);
    CHECK(text.find("\x1b]") == std::string::npos);
    CHECK(text.find("\x1b[31m") == std::string::npos);
    CHECK(text.find("'?]0;pwned??[31mRED\tx' is not a valid") != std::string::npos);
    // One byte for one: the tildes still end under the last byte of the line.
    CHECK(text.find("  ?]0;pwned??[31mRED\tx\n  ^" + std::string(line.size() - 1, '~') + "\n") != std::string::npos);
  }
}

TEST_CASE("bytes outside UTF-8 are not printed raw", "[front][limits]") {
  // A binary policy's first line: the text and JSON renderings carry it to
  // `stats` and the web API, whose JSON must be UTF-8. Well-formed
  // sequences (é, €) stay; stray, cut and overlong bytes become '?'.
  dnspc::diag::SourceManager sources;
  const std::string line = "yB\xbd\xf2!\xc3\xa9\xe2\x82\xac\xc0\xaf\xe2\x82";
  dnspc::diag::FileId file = sources.add("bin\xff.dp", line + "\n");
  dnspc::diag::Diagnostics diags(sources);
  diags.error("bad-encoding", {file, 2, 3}, "byte \xbd here");
  const std::string text = dnspc::diag::render_text(diags);
  CHECK(text.find("bin?.dp:1:3: error: byte ? here") != std::string::npos);
  CHECK(text.find("  yB?" "?!\xc3\xa9\xe2\x82\xac?" "?" "?" "?\n") != std::string::npos);
  const std::string json = dnspc::diag::render_json(diags);
  CHECK(json.find("\"file\":\"bin?.dp\"") != std::string::npos);
  CHECK(json.find("\"message\":\"byte ? here\"") != std::string::npos);
  CHECK(dnspc::diag::utf8_sequence_length("\xed\xa0\x80", 0) == 0);  // a surrogate
  CHECK(dnspc::diag::utf8_sequence_length("\xf4\x90\x80\x80", 0) == 0);  // past U+10FFFF
  CHECK(dnspc::diag::utf8_sequence_length("\xf0\x9f\x98\x80", 0) == 4);
}
