#include "front_test_support.h"

#include <catch2/catch.hpp>

#include "dnspc/parse/parse.h"

namespace front_test {

std::string check_dir() { return DNSPC_CHECK_DIR; }

std::string wrap(std::string_view middle) {
  return "pool main { server 192.0.2.1; }\n" + std::string(middle) + "\nrule default: true => pool main;\n";
}

Loaded::Loaded(std::string text, std::string path)
    : sources_(std::make_unique<dnspc::diag::SourceManager>()),
      diags_(std::make_unique<dnspc::diag::Diagnostics>(*sources_)) {
  result_ = dnspc::frontend::load_policy_text(path, std::move(text), *diags_);
  diags_->sort();
}

const dnspc::sema::Model& Loaded::model() const {
  if (!result_.model) FAIL("the policy did not load:\n" << text());
  return *result_.model;
}

size_t Loaded::count(std::string_view code) const {
  size_t n = 0;
  for (const Diagnostic& d : diags_->all()) n += d.code == code;
  return n;
}

const Diagnostic& Loaded::first(std::string_view code) const {
  for (const Diagnostic& d : diags_->all()) {
    if (d.code == code) return d;
  }
  FAIL("no [" << code << "] diagnostic; got:\n" << text());
  return diags_->all().front();  // not reached
}

std::string Loaded::codes() const {
  std::string out;
  for (const Diagnostic& d : diags_->all()) out += (out.empty() ? "" : " ") + d.code;
  return out;
}

std::string Loaded::text() const { return "diagnostics:\n" + dnspc::diag::render_text(*diags_); }

std::string_view Loaded::slice(SourceRange r) const {
  return sources_->text(r.file).substr(r.begin, r.end - r.begin);
}

Loaded load(std::string text) { return Loaded(std::move(text), check_dir() + "/unit.dp"); }

Loaded load_wrapped(std::string_view middle) { return load(wrap(middle)); }

Parsed::Parsed(std::string text)
    : sources_(std::make_unique<dnspc::diag::SourceManager>()),
      diags_(std::make_unique<dnspc::diag::Diagnostics>(*sources_)) {
  dnspc::diag::FileId file = sources_->add("unit.dp", std::move(text));
  ast_ = dnspc::parse::parse_policy(file, *diags_);
}

const dnspc::ast::Policy& Parsed::ast() const {
  if (!ast_) FAIL("the policy did not parse:\n" << dnspc::diag::render_text(*diags_));
  return *ast_;
}

bool Parsed::has(std::string_view code) const {
  for (const Diagnostic& d : diags_->all()) {
    if (d.code == code) return true;
  }
  return false;
}

std::string Parsed::codes() const {
  std::string out;
  for (const Diagnostic& d : diags_->all()) out += (out.empty() ? "" : " ") + d.code;
  return out;
}

std::string_view Parsed::slice(SourceRange r) const {
  return sources_->text(r.file).substr(r.begin, r.end - r.begin);
}

}  // namespace front_test
