// libFuzzer target: a regex (any bytes) to a DFA (compiler/regex): an error,
// or a table within the state budget whose every transition stays in the
// table, and whose runs over text stay in it too. A budget too small for a
// regex must give an error, never a hang or a huge table.
// Input: one byte picking the budget, the pattern up to the first 0 byte,
// then text to run the table over.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "dnspc/dfa_table.h"
#include "dnspc/regex/compile.h"
#include "dnspc/regex/literals.h"
#include "dnspc/regex/parse.h"
#include "fuzz_support.h"

using fuzz_support::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dnspc;
  if (size < 1) return 0;
  static const uint32_t kBudgets[] = {1, 4, 64, 1000, 10000, 10000, 10000, kDfaMaxStates};
  regex::DfaOptions options;
  options.state_budget = kBudgets[data[0] & 7];
  const char* p = reinterpret_cast<const char*>(data + 1);
  const size_t rest = size - 1;
  const void* zero = std::memchr(p, 0, rest);
  const size_t plen = zero ? static_cast<const char*>(zero) - p : rest;
  const std::string_view pattern(p, plen);
  const uint8_t* text = data + 1 + plen + (zero ? 1 : 0);
  const size_t tlen = size - 1 - plen - (zero ? 1 : 0);

  auto parsed = regex::parse_regex(pattern);
  if (!parsed) return 0;
  regex::extract_literals(parsed.value());
  auto dfa = regex::compile_dfa(parsed.value(), options);
  if (!dfa) return 0;
  const DfaTable& t = dfa.value();
  check(t.state_count >= 1 &&
        t.state_count <= options.state_budget + 2);  // + the dead state and the sink
  check(t.class_count >= 1 && t.start < t.state_count && t.sink_count <= t.state_count);
  check(t.next.size() == static_cast<size_t>(t.state_count) * t.class_count);
  check(t.accepting.size() == t.state_count && t.accept_begin.size() == t.state_count + 1u);
  for (uint16_t s : t.next) check(s < t.state_count);
  for (uint8_t c : t.byte_class) check(c < t.class_count);
  check(t.accepting[0] == 0);
  const uint32_t end = dfa_run(t, text, tlen);
  check(end < t.state_count);
  return 0;
}
