#include <algorithm>

#include "dnspc/diag/diagnostics.h"

namespace dnspc::diag {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

Diagnostic& Diagnostics::add(Severity severity, std::string code, SourceRange range, std::string message) {
  ++(severity == Severity::kError ? errors_ : severity == Severity::kWarning ? warnings_ : notes_);
  if (message.size() > kMaxMessageBytes) message = clip_text(message, kMaxMessageBytes);
  // Notes are remarks the compiler makes itself, at most one per policy file
  // (never one per input line): they are kept past the limit, so that a
  // policy with thousands of warnings still shows what its fast path runs.
  if (diagnostics_.size() >= kept_limit_ && severity != Severity::kNote) {
    discarded_ = {severity, std::move(code), range, std::move(message), {}};
    return discarded_;
  }
  diagnostics_.push_back({severity, std::move(code), range, std::move(message), {}});
  return diagnostics_.back();
}

Diagnostic& Diagnostics::error(std::string code, SourceRange range, std::string message) {
  return add(Severity::kError, std::move(code), range, std::move(message));
}

Diagnostic& Diagnostics::warning(std::string code, SourceRange range, std::string message) {
  return add(Severity::kWarning, std::move(code), range, std::move(message));
}

Diagnostic& Diagnostics::note(std::string code, SourceRange range, std::string message) {
  return add(Severity::kNote, std::move(code), range, std::move(message));
}

void Diagnostics::append(const Diagnostics& other) {
  for (const Diagnostic& d : other.diagnostics_) {
    if (diagnostics_.size() >= kept_limit_ && d.severity != Severity::kNote) continue;
    diagnostics_.push_back(d);
  }
  errors_ += other.errors_;
  warnings_ += other.warnings_;
  notes_ += other.notes_;
}

void Diagnostics::sort() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.range.file != b.range.file) return a.range.file < b.range.file;
    return a.range.begin < b.range.begin;
  });
}

std::string clip_text(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  // A suggestion is for a typo: a long word has none, and comparing it would
  // cost its length times every candidate's.
  constexpr size_t kMaxWord = 64;
  if (word.size() > kMaxWord) return {};
  // Levenshtein distance; a suggestion must be closer than a third of the word.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t best_distance = std::max<size_t>(1, (word.size() + 2) / 3) + 1;
  for (const std::string& c : candidates) {
    size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (gap >= best_distance) continue;  // the distance is at least the length difference
    size_t d = distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace dnspc::diag
