// libFuzzer target: set-file reading (`suffixes|names|netmasks|qtypes NAME =
// file "..."`, Analyzer::load_set_file in compiler/sema/src/analyze_sets.cc).
// The input is written as a set file and read, by sema as `dnspc check`
// runs it, for a policy that loads it as each of the four kinds (parsed
// once: the parse is most of a load's time and not what is fuzzed here).
// Expected: entries or located diagnostics (a bad line at its own place in
// the set file, an over-long line once), never a crash; what a set keeps is
// well formed whatever else the file held: lower-case names with the
// trailing dot and at most 255 bytes, prefixes within their family with
// host bits cleared, no duplicates, no more entries than lines.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/parse/parse.h"
#include "dnspc/sema/sema.h"
#include "fuzz_support.h"

using fuzz_support::check;

namespace {

std::string dir;
std::unique_ptr<dnspc::ast::Policy> policy;  // kPolicy, parsed once

constexpr char kPolicy[] = R"(pool main { server 192.0.2.1; }
suffixes s = file "set.txt";
names    n = file "set.txt";
netmasks m = file "set.txt";
qtypes   q = file "set.txt";
rule a: qname in s => drop;
rule b: qname in n => refuse;
rule c: src in m => drop;
rule d: qtype in q => refuse;
rule default: true => pool main;
)";

void check_set(const dnspc::sema::NamedSet& set, size_t lines) {
  using dnspc::sema::SetKind;
  check(set.names.size() + set.prefixes.size() + set.qtypes.size() <= lines);
  std::set<std::string> names(set.names.begin(), set.names.end());
  check(names.size() == set.names.size());
  for (const std::string& n : set.names) {
    check(set.kind == SetKind::kSuffixes || set.kind == SetKind::kNames);
    check(!n.empty() && n.size() <= 255 && n.back() == '.');
    check(std::none_of(n.begin(), n.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  }
  for (const dnspc::sema::Prefix& p : set.prefixes) {
    check(set.kind == SetKind::kNetmasks);
    const size_t bits = p.address.is_v6() ? 128 : 32;
    check(p.length <= bits);
    for (size_t b = p.length; b < bits; ++b)
      check((p.address.bytes[b / 8] >> (7 - b % 8) & 1) == 0);
  }
  std::set<uint16_t> qtypes(set.qtypes.begin(), set.qtypes.end());
  check(qtypes.size() == set.qtypes.size());
  if (!set.qtypes.empty()) check(set.kind == SetKind::kQtypes);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/dnspc-fuzz-set-XXXXXX";
  check(mkdtemp(tmpl.data()) != nullptr);
  dir = tmpl;
  static dnspc::diag::SourceManager sources;  // kept with the tree
  dnspc::diag::Diagnostics diags(sources);
  policy = dnspc::parse::parse_policy(sources.add(dir + "/fuzz.dp", kPolicy), diags);
  check(policy != nullptr && !diags.has_errors());
  std::atexit([] {
    std::remove((dir + "/set.txt").c_str());
    rmdir(dir.c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dnspc;
  const std::string set_path = dir + "/set.txt";
  FILE* f = std::fopen(set_path.c_str(), "wb");
  check(f != nullptr);
  check(std::fwrite(data, 1, size, f) == size || size == 0);
  check(std::fclose(f) == 0);

  // The policy is file 0 again, as the parsed tree's ranges say.
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  check(sources.add(dir + "/fuzz.dp", kPolicy) == 0);
  sema::Config config;
  config.base_dir = dir;
  config.check_lua = false;
  sema::Model model = sema::analyze(*policy, diags, config);
  const size_t lines = std::count(data, data + size, '\n') + 1;
  check(model.sets.size() == 4);
  // Bad lines are reported and left out; what was kept is well formed,
  // whatever else the file held.
  for (const sema::NamedSet& set : model.sets) check_set(set, lines);
  for (const diag::Diagnostic& d : diags.all()) {
    // Every problem of a set file is placed in it (not in the policy),
    // within its text.
    if (!d.range.valid()) continue;
    check(d.range.begin <= d.range.end && d.range.end <= sources.text(d.range.file).size());
    if (d.code == "bad-set-entry" || d.code == "line-too-long") check(d.range.file != 0);
  }
  diags.sort();
  diag::render_text(diags);
  diag::render_json(diags);
  return 0;
}
