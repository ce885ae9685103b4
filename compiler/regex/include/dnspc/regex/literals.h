// Literals a regex requires, for prefiltering ("fast pattern"): a cheap
// substring or suffix test that rules most names out before a DFA runs.
#pragma once

#include <string>

#include "dnspc/regex/ast.h"

namespace dnspc::regex {

// Guarantees, for every text t the regex matches (matching is
// case-insensitive, so read "t" as t lower-cased):
//
// - required: t contains `required` as a contiguous substring. Empty when no
//   literal was found (every text passes). It is the longest such factor this
//   cheap analysis finds, not necessarily the longest that exists. Lower case,
//   at most 255 bytes.
//
// - dns_suffix: when not empty, it ends in '.' and t ends with "." followed by
//   dns_suffix, the first of those dots being a literal '.' of the pattern:
//   /^[a-z0-9]{16,}\.example\.com\.$/ gives "example.com.". In DNS terms, a
//   name whose labels hold no '.' byte is then strictly below dns_suffix. The
//   guarantee is about the text form: a label holding a '.' byte reads as two
//   labels there (see query_view.h), so a label-wise suffix test over the
//   wire form must treat such names as "maybe". Only set when every match
//   ends at the end of the text ($) with a literal tail holding a '.' before
//   its last label-aligned part; empty otherwise.
struct RegexLiterals {
  std::string required;
  std::string dns_suffix;
};

RegexLiterals extract_literals(const Regex& regex);

}  // namespace dnspc::regex
