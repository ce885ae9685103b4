// Front end: policy text -> AST. Syntax errors are reported to `diags` with
// their source ranges; the ANTLR parse tree never leaves this library.
#pragma once

#include <memory>

#include "dnspc/ast/ast.h"
#include "dnspc/diag/diagnostics.h"

namespace dnspc::parse {

// Parses a file already added to diags.sources(). Returns null when the file
// has syntax errors (they are in `diags`); otherwise the AST, which may still
// carry value errors (bad addresses, numbers out of range) reported here too.
std::unique_ptr<ast::Policy> parse_policy(diag::FileId file, diag::Diagnostics& diags);

}  // namespace dnspc::parse
