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

Diagnostic& Diagnostics::error(std::string code, SourceRange range, std::string message) {
  diagnostics_.push_back({Severity::kError, std::move(code), range, std::move(message), {}});
  return diagnostics_.back();
}

Diagnostic& Diagnostics::warning(std::string code, SourceRange range, std::string message) {
  diagnostics_.push_back({Severity::kWarning, std::move(code), range, std::move(message), {}});
  return diagnostics_.back();
}

void Diagnostics::append(const Diagnostics& other) {
  diagnostics_.insert(diagnostics_.end(), other.diagnostics_.begin(), other.diagnostics_.end());
}

size_t Diagnostics::error_count() const {
  return static_cast<size_t>(std::count_if(diagnostics_.begin(), diagnostics_.end(),
                                           [](auto& d) { return d.severity == Severity::kError; }));
}

size_t Diagnostics::warning_count() const {
  return static_cast<size_t>(std::count_if(diagnostics_.begin(), diagnostics_.end(),
                                           [](auto& d) { return d.severity == Severity::kWarning; }));
}

void Diagnostics::sort() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.range.file != b.range.file) return a.range.file < b.range.file;
    return a.range.begin < b.range.begin;
  });
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
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
    size_t d = distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace dnspc::diag
