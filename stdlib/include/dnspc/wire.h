// The DNS wire codec: parse a query once into a QueryView, build the answers
// dnspc makes itself, edit header bits in place, and match backend answers
// to their queries. Never allocates, never reads or writes out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dnspc/query_view.h"

namespace dnspc {

// Why a query was rejected. Each reason is a counter in the runtime.
enum class ParseError : uint8_t {
  kOk = 0,
  kTooShort,              // fewer than 12 bytes
  kNotAQuery,             // QR bit set
  kQuestionCount,         // QDCOUNT != 1: answered FORMERR (question_end is the header end; EDNS read when 0)
  kLabelTooLong,          // a length byte 64..127 (an over-long label)
  kNameTooLong,           // question name over 255 bytes
  kBadLabelType,          // a length byte 128..191 (reserved label type)
  kCompressedQuestion,    // compression pointer in the question name
  kCountsPastEnd,         // the header's counts promise more than the packet holds
  kBadOpt,                // malformed, misplaced or duplicated OPT record
};
constexpr unsigned kParseErrorCount = 10;
const char* parse_error_name(ParseError e);

// Parses `packet` into `view` (source/destination are left to the caller).
// The view points into `packet`, which must outlive it.
ParseError parse_query(const uint8_t* packet, size_t size, Transport transport, QueryView& view);

namespace rcode {
constexpr uint8_t kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4,
                  kRefused = 5;
constexpr uint16_t kBadVers = 16;  // extended rcode, carried in OPT
}  // namespace rcode

namespace opcode {
constexpr uint8_t kQuery = 0, kIQuery = 1, kStatus = 2, kNotify = 4, kUpdate = 5, kDso = 6;
}  // namespace opcode

namespace qtype {
constexpr uint16_t kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kPTR = 12, kMX = 15, kTXT = 16,
                   kAAAA = 28, kSRV = 33, kOPT = 41, kDS = 43, kRRSIG = 46, kDNSKEY = 48,
                   kAXFR = 252, kIXFR = 251, kANY = 255;
}  // namespace qtype

// The largest answer the client accepts: 512 without EDNS, its advertised
// payload size with EDNS (never less than 512), 65535 over TCP.
size_t client_answer_limit(const QueryView& q);

// EDNS payload size dnspc advertises in its own answers (DNS flag day 2020).
constexpr uint16_t kOwnEdnsPayload = 1232;

// Answers dnspc makes itself. Each writes into `out` (capacity `cap`) and
// returns the answer's size, or 0 when `cap` cannot hold even the header,
// question and OPT. All keep the client's ID, question (with its name case),
// RD and CD; set QR, and RA when the client set RD (as dnsdist does); add OPT only when the client
// sent one (payload 1232, DO copied, no options; BADVERS when the client's
// EDNS version is above 0); and never exceed client_answer_limit(), setting
// TC and dropping records instead.
size_t build_rcode_answer(const QueryView& q, uint8_t rcode, uint8_t* out, size_t cap);
size_t build_truncated_answer(const QueryView& q, uint8_t* out, size_t cap);

struct SpoofRecord {
  uint16_t type = 0;  // A, AAAA, CNAME or TXT
  uint32_t ttl = 0;
  // A: 4 bytes; AAAA: 16 bytes; CNAME: the target in wire form; TXT: the
  // text, split into 255-byte character-strings by the builder.
  std::span<const uint8_t> data;
};
// Answers with the records that fit the question: records of the query type,
// A and AAAA for ANY, a CNAME for any type; none fitting is NODATA (NOERROR,
// empty answer).
size_t build_spoof_answer(const QueryView& q, std::span<const SpoofRecord> records, uint8_t* out,
                          size_t cap);

// In-place header edits on a packet of at least 12 bytes.
void set_id(uint8_t* packet, uint16_t id);
void set_flag(uint8_t* packet, uint16_t bit, bool on);
uint16_t read_id(const uint8_t* packet);

// True when `answer` is a response to the query `q` sent with ID `id`: QR
// set, same ID, one question with the same name (case-insensitively), type
// and class; or no question and an error rcode other than NXDOMAIN (what
// servers send for opcodes they refuse or do not implement, as dnsdist
// accepts: it carries no data).
bool answer_matches(const uint8_t* answer, size_t size, uint16_t id, const QueryView& q);

// The answer's rcode: the header's 4 bits, with the OPT record's extended
// rcode as bits 4..11 when it has one (BADVERS = 16). A malformed answer
// gives what could be read (at least the header's bits; 0 when shorter than
// a header).
uint16_t answer_rcode(const uint8_t* answer, size_t size);

// Encodes a presentation-form name ("www.example.com" or "www.example.com.")
// into wire form. Returns the wire length, or 0 when the name is invalid or
// does not fit. Used by tests, `dnspc test` and the spoof builder's callers.
size_t encode_name(std::string_view text, uint8_t* out, size_t cap);

// The regex text form of the view's qname ("www.example.com.", "." for the
// root) into `out`; returns its length (at most 255).
size_t qname_text(const QueryView& q, char* out, size_t cap);

}  // namespace dnspc
