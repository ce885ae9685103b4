// Front end: policy text -> AST. Syntax errors are reported to `diags` with
// their source ranges; the ANTLR parse tree never leaves this library.
#pragma once

#include <cstddef>
#include <memory>

#include "dnspc/ast/ast.h"
#include "dnspc/diag/diagnostics.h"

namespace dnspc::parse {

// How deep parentheses and `not` may nest in one condition (as clang's
// -fbracket-depth). Deeper is a located error, `nesting-too-deep`; every
// pass that recurses over a condition relies on this bound. Flat `and`/`or`
// chains of any length are not nesting.
inline constexpr size_t kMaxConditionNesting = 256;
// The longest identifier (rule, pool, set, block names), as `name-too-long`.
inline constexpr size_t kMaxIdentifierLength = 128;

// Parses a file already added to diags.sources(). Returns null when the file
// has syntax errors (they are in `diags`); otherwise the AST, which may still
// carry value errors (bad addresses, numbers out of range) reported here too.
// With `keep`, what the parser built besides the AST (tokens, parse trees:
// at 10k rules a fifth of the parse time to free) is handed to `*keep`
// instead of freed here, so that a command about to exit need not free it;
// dropping `*keep` frees it. `thread_start`, when set, runs first on each
// thread the parse starts (frontend::LoadOptions::thread_start).
std::unique_ptr<ast::Policy> parse_policy(diag::FileId file, diag::Diagnostics& diags,
                                          std::shared_ptr<const void>* keep = nullptr,
                                          void (*thread_start)() = nullptr);

}  // namespace dnspc::parse
