// Pattern text -> syntax tree. Accepts the regular subset of PCRE syntax a
// DFA can match; everything else is rejected with the byte range at fault
// and a message naming the feature and what to write instead.
#pragma once

#include <cstdint>
#include <string_view>

#include "dnspc/regex/ast.h"
#include "dnspc/regex/error.h"

namespace dnspc::regex {

constexpr uint32_t kMaxRepeat = 1000;        // largest n or m in {n,m}
constexpr uint32_t kMaxGroupDepth = 100;     // keeps every recursive pass off the stack limit
constexpr uint32_t kMaxPositions = 20000;    // bytes-to-match once repetitions are unrolled

// Supported: literals; escapes \. \\ \/ \- (any escaped punctuation), \d \w \s
// \D \W \S, \t \n \r \f \v, \xHH; '.' (any byte, names have no lines);
// [...] and [^...] with ranges; ( ) and (?: ) (nothing is captured); |;
// * + ? {n} {n,} {n,m} and their lazy forms (same matches); ^ first in an
// alternative and $ last in one, each with nothing before (after) it out to
// the pattern's edge. Letters fold to lower case. Non-ASCII bytes must be
// written as \xHH.
RegexResult<Regex> parse_regex(std::string_view pattern);

}  // namespace dnspc::regex
