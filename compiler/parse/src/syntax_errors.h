// Turns ANTLR's syntax errors into our diagnostics, with friendlier words for
// the mistakes people actually make (a missing ';', '=' for '==', a reserved
// word used as a name, `qtype ANY` without an operator).
#pragma once

#include <antlr4-runtime.h>

#include "dnspc/diag/diagnostics.h"
#include "offsets.h"

namespace dnspc::parse {

class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(diag::Diagnostics& diags, diag::FileId file, const OffsetMap& offsets)
      : diags_(diags), file_(file), offsets_(offsets) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                   size_t column, const std::string& msg, std::exception_ptr e) override;

  size_t errors() const { return errors_; }

 private:
  diag::SourceRange token_range(const antlr4::Token* t) const;
  diag::SourceRange after(const antlr4::Token* t) const;

  diag::Diagnostics& diags_;
  diag::FileId file_;
  const OffsetMap& offsets_;
  size_t errors_ = 0;
  size_t last_error_token_ = SIZE_MAX;
  // After `xdp eth0`, recovery takes `eth0` for a setting and trips again
  // before the ';': the rest of that statement is not reported.
  size_t quiet_until_semi_after_ = SIZE_MAX;
};

}  // namespace dnspc::parse
