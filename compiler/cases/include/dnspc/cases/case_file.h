// Case files for `dnspc test` (docs/test-cases.md): one query a line, with
// the verdict it must get. This header is the syntax only: parsing a case
// file needs no policy. Names in expectations (rules, pools, rcodes) stay
// text here and are resolved against a compiled policy by bind_cases()
// (runner.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/query_view.h"

namespace dnspc::cases {

// An EDNS option as it goes on the wire: code and data.
struct EdnsOption {
  uint16_t code = 0;
  std::vector<uint8_t> data;
};

// Everything needed to build one query packet and its view's addresses.
struct QuerySpec {
  std::string qname;     // as written (presentation form); encoded by encode_query
  uint16_t qtype = 1;    // A
  uint16_t qclass = 1;   // IN
  NetAddress source;     // default 127.0.0.1:53000
  std::optional<NetAddress> destination;  // default: the policy's first listen address
  Transport transport = Transport::kUdp;
  uint16_t flags = 0x0100;  // header flag bits (header_bits); RD by default
  uint8_t opcode = 0;       // QUERY
  std::optional<uint16_t> id;  // default: the case's line number
  // EDNS: an OPT record is sent when `edns` is set (do, payload, ednsversion,
  // option, ecs and padding all set it).
  bool edns = false;
  bool dnssec_ok = false;
  uint16_t payload = 1232;
  uint8_t edns_version = 0;
  std::vector<EdnsOption> options;
  // What the backend answers when the query is forwarded, counted by
  // dynamic blocks on servfail, nxdomain and bytes (`answer SERVFAIL`,
  // `answer_bytes 1400`). Default: NOERROR, as many bytes as the query.
  uint8_t answer_rcode = 0;
  std::optional<uint32_t> answer_bytes;
};

// One expected verdict, `RULE [ACTION [ARG]] [*COUNT]`; RULE may name a
// dynamic block (the query is blocked).
struct Expectation {
  std::string rule;
  std::string action;    // empty: any action of the rule (it has only one)
  std::string argument;  // pool name, rcode name, Lua function; empty when not given
  uint32_t count = 1;
  bool count_given = false;
  size_t column = 0;  // 1-based column of the rule name, for messages
};

struct Case {
  size_t line = 0;        // 1-based
  std::string text;       // the line as written, comment stripped, trimmed
  uint64_t at_ns = 0;     // virtual time of the first repetition (absolute from file start)
  uint64_t every_ns = 0;  // spacing between repetitions (0: all at the same instant)
  uint32_t repeat = 1;    // xN
  QuerySpec query;
  // In order; counts add up to `repeat` (parse_cases checks it).
  std::vector<Expectation> expect;

  // Virtual time of repetition i (0-based).
  uint64_t time_of(uint32_t i) const { return at_ns + every_ns * i; }
};

struct CaseError {
  std::string path;
  size_t line = 0;
  size_t column = 0;  // 1-based; 0 when the whole line is meant
  std::string message;

  // "path:line: message"
  std::string to_string() const;
};

struct CaseFile {
  std::string path;
  std::vector<Case> cases;
};

struct ParseResult {
  CaseFile file;
  std::vector<CaseError> errors;  // in line order; cases with errors are left out
  bool ok() const { return errors.empty(); }
};

// Parses a case file's text. `path` names it in messages only.
ParseResult parse_cases(std::string_view path, std::string_view text);

// Reads and parses a file. Returns nullopt and sets `io_error` when it
// cannot be read.
std::optional<ParseResult> load_cases(const std::string& path, std::string& io_error);

// Limits, documented in docs/test-cases.md.
constexpr uint32_t kMaxRepeat = 1'000'000;
constexpr uint64_t kMaxTimeNs = 366ull * 24 * 3600 * 1'000'000'000ull;  // a year of virtual time

// "1500ms", "2s", "1.5s", "250us", "10m", "1h" -> nanoseconds. Exposed for tests.
std::optional<uint64_t> parse_duration(std::string_view text);

// "1500ms", "2s", "0s": the shortest exact spelling of a virtual time.
std::string format_time(uint64_t ns);

// The default source of a query: 127.0.0.1:53000.
NetAddress default_source();

}  // namespace dnspc::cases
