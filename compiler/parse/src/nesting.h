// The nesting bound of conditions. The parser, the transformer and every
// later pass recurse once per level of parentheses and `not`; a bound on the
// levels, checked on the tokens before anything recurses, is what keeps a
// generated policy from overflowing a stack (in `check`, and on a running
// instance's reload thread). Long flat `and`/`or` chains are not nesting:
// the parser loops over them and the transformer flattens them.
#pragma once

#include <antlr4-runtime.h>

#include <vector>

#include "dnspc/diag/diagnostics.h"
#include "offsets.h"

namespace dnspc::parse {

// Reports `nesting-too-deep` at the first token past the bound; returns
// false when it did.
bool check_condition_nesting(const std::vector<antlr4::Token*>& tokens, const OffsetMap& offsets,
                             diag::FileId file, diag::Diagnostics& diags);

}  // namespace dnspc::parse
