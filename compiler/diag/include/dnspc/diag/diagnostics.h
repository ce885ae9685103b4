// The one diagnostic engine: every pass reports here, with a source range, a
// stable code (for JSON consumers and golden tests) and a message that names
// the thing and the fix.
#pragma once

#include <string>
#include <vector>

#include "dnspc/diag/source.h"

namespace dnspc::diag {

enum class Severity { kError, kWarning, kNote };
const char* severity_name(Severity s);

struct Note {
  SourceRange range;  // may be invalid: a note without a place
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string code;  // e.g. "unknown-pool"
  SourceRange range;
  std::string message;
  std::vector<Note> notes;
};

class Diagnostics {
 public:
  explicit Diagnostics(SourceManager& sources) : sources_(sources) {}

  Diagnostic& error(std::string code, SourceRange range, std::string message);
  Diagnostic& warning(std::string code, SourceRange range, std::string message);

  const std::vector<Diagnostic>& all() const { return diagnostics_; }
  // Adds another engine's diagnostics (same sources), after these.
  void append(const Diagnostics& other);
  size_t error_count() const;
  size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }

  // Diagnostics in file order, then by position, for stable output.
  void sort();

  SourceManager& sources() { return sources_; }
  const SourceManager& sources() const { return sources_; }

 private:
  SourceManager& sources_;
  std::vector<Diagnostic> diagnostics_;
};

// clang-style text: "file:line:col: error: message [code]", the source line,
// a caret under the range, then the notes.
std::string render_text(const Diagnostics& diags, bool color = false);
// One JSON document (schema in docs/diagnostics.md).
std::string render_json(const Diagnostics& diags);

// The closest candidate within a small edit distance, for "did you mean".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace dnspc::diag
