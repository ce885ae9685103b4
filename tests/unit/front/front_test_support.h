// Helpers for the front-end tests: run a policy text through the front end
// (or the parser alone) and ask what came out: diagnostics by code, the
// model, the AST, and the line:column of any range.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/ast/ast.h"
#include "dnspc/diag/diagnostics.h"
#include "dnspc/frontend/frontend.h"
#include "dnspc/sema/model.h"

namespace front_test {

using dnspc::diag::Diagnostic;
using dnspc::diag::LineColumn;
using dnspc::diag::SourceRange;

// The golden tests' folder: a policy "placed" there finds data/hooks.lua,
// data/netmasks.txt, ... by relative path.
std::string check_dir();

// One pool and a catch-all rule around `middle`, so that `middle` is all a
// test has to write: "pool main { server 192.0.2.1; }\n" + middle + "\nrule default: true => pool main;\n".
std::string wrap(std::string_view middle);

// A policy run through frontend::load_policy_text.
class Loaded {
 public:
  Loaded(std::string text, std::string path);

  const dnspc::frontend::LoadResult& result() const { return result_; }
  bool ok() const { return result_.status == dnspc::frontend::LoadStatus::kOk; }
  const dnspc::sema::Model& model() const;  // FAILs the test when there is none
  const dnspc::diag::Diagnostics& diags() const { return *diags_; }

  bool has(std::string_view code) const { return count(code) > 0; }
  size_t count(std::string_view code) const;
  // The first diagnostic with `code`; FAILs the test when there is none.
  const Diagnostic& first(std::string_view code) const;
  // No diagnostic at all, warnings included.
  bool clean() const { return diags_->all().empty(); }
  // "code code ..." of every diagnostic, for failure messages.
  std::string codes() const;
  // The rendered diagnostics (as check prints them), for failure messages.
  std::string text() const;

  LineColumn begin(SourceRange r) const { return sources_->position(r.file, r.begin); }
  LineColumn end(SourceRange r) const { return sources_->position(r.file, r.end); }
  // The source text a range covers.
  std::string_view slice(SourceRange r) const;

 private:
  std::unique_ptr<dnspc::diag::SourceManager> sources_;
  std::unique_ptr<dnspc::diag::Diagnostics> diags_;
  dnspc::frontend::LoadResult result_;
};

// `text` as a policy in the golden tests' folder.
Loaded load(std::string text);
// wrap(middle) as a policy in the golden tests' folder.
Loaded load_wrapped(std::string_view middle);

// A policy run through parse::parse_policy only.
class Parsed {
 public:
  explicit Parsed(std::string text);

  const dnspc::ast::Policy& ast() const;  // FAILs the test when parsing failed
  bool failed() const { return ast_ == nullptr; }
  const dnspc::diag::Diagnostics& diags() const { return *diags_; }
  bool has(std::string_view code) const;
  std::string codes() const;

  LineColumn begin(SourceRange r) const { return sources_->position(r.file, r.begin); }
  LineColumn end(SourceRange r) const { return sources_->position(r.file, r.end); }
  std::string_view slice(SourceRange r) const;

 private:
  std::unique_ptr<dnspc::diag::SourceManager> sources_;
  std::unique_ptr<dnspc::diag::Diagnostics> diags_;
  std::unique_ptr<dnspc::ast::Policy> ast_;
};

}  // namespace front_test

// Assertions that print the diagnostics when they fail.
#define CHECK_CODE(loaded, code)        \
  do {                                  \
    INFO((loaded).text());              \
    CHECK((loaded).has(code));          \
  } while (false)
#define CHECK_NO_CODE(loaded, code)     \
  do {                                  \
    INFO((loaded).text());              \
    CHECK_FALSE((loaded).has(code));    \
  } while (false)
#define CHECK_CLEAN(loaded)             \
  do {                                  \
    INFO((loaded).text());              \
    CHECK((loaded).clean());            \
  } while (false)
