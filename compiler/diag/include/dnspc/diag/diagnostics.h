// The one diagnostic engine: every pass reports here, with a source range, a
// stable code (for JSON consumers and golden tests) and a message that names
// the thing and the fix.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "dnspc/diag/source.h"
#include "dnspc/utf8.h"

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

// Diagnostics are bounded, as a compiler's are: a generated policy with a
// million bad lines must not print a million messages (or hold them). The
// first `kept_limit()` are kept; the rest are only counted, and renderers
// say how many were left out. Messages are clipped to kMaxMessageBytes, so
// a huge name is never echoed whole.
class Diagnostics {
 public:
  static constexpr size_t kDefaultKept = 100;
  static constexpr size_t kMaxMessageBytes = 480;

  explicit Diagnostics(SourceManager& sources, size_t kept_limit = kDefaultKept)
      : sources_(sources), kept_limit_(kept_limit) {}

  Diagnostic& error(std::string code, SourceRange range, std::string message);
  Diagnostic& warning(std::string code, SourceRange range, std::string message);
  // A remark about a policy without a fault in it (what the kernel fast
  // path runs): shown with the others, never an error, not a warning for
  // --werror. At most one per policy file, so kept past the limit.
  Diagnostic& note(std::string code, SourceRange range, std::string message);

  // The kept diagnostics; the counts below include those left out.
  const std::vector<Diagnostic>& all() const { return diagnostics_; }
  // Adds another engine's diagnostics (same sources), after these.
  void append(const Diagnostics& other);
  size_t error_count() const { return errors_; }
  size_t warning_count() const { return warnings_; }
  size_t note_count() const { return notes_; }
  bool has_errors() const { return errors_ > 0; }
  size_t omitted_count() const { return errors_ + warnings_ + notes_ - diagnostics_.size(); }
  size_t kept_limit() const { return kept_limit_; }
  void set_kept_limit(size_t limit) { kept_limit_ = limit; }

  // Diagnostics in file order, then by position, for stable output.
  void sort();

  SourceManager& sources() { return sources_; }
  const SourceManager& sources() const { return sources_; }

 private:
  Diagnostic& add(Severity severity, std::string code, SourceRange range, std::string message);

  SourceManager& sources_;
  size_t kept_limit_;
  size_t errors_ = 0, warnings_ = 0, notes_ = 0;
  std::vector<Diagnostic> diagnostics_;
  Diagnostic discarded_;  // what a caller adds notes to once the limit is reached
};

// The UTF-8 check diagnostics and the policy reader share (stdlib).
using dnspc::utf8_sequence_length;

// `text` cut to at most `max_bytes` (on a UTF-8 boundary) with "..." added
// when it was longer.
std::string clip_text(std::string_view text, size_t max_bytes);

// clang-style text: "file:line:col: error: message [code]", the source line,
// a caret under the range, then the notes.
std::string render_text(const Diagnostics& diags, bool color = false);
// One JSON document (schema in docs/diagnostics.md).
std::string render_json(const Diagnostics& diags);

// The closest candidate within a small edit distance, for "did you mean".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace dnspc::diag
