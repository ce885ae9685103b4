#include <algorithm>

#include "dnspc/diag/source.h"

namespace dnspc::diag {

FileId SourceManager::add(std::string path, std::string text) {
  File f{std::move(path), std::move(text), {0}};
  for (uint32_t i = 0; i < f.text.size(); ++i) {
    if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  files_.push_back(std::move(f));
  return static_cast<FileId>(files_.size() - 1);
}

LineColumn SourceManager::position(FileId id, uint32_t offset) const {
  const File& f = files_[id];
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - f.line_starts.begin());
  return {line, offset - f.line_starts[line - 1] + 1};
}

std::string_view SourceManager::line_text(FileId id, uint32_t offset) const {
  const File& f = files_[id];
  LineColumn lc = position(id, offset);
  uint32_t start = f.line_starts[lc.line - 1];
  size_t end = f.text.find('\n', start);
  if (end == std::string::npos) end = f.text.size();
  std::string_view line(f.text.data() + start, end - start);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

SourceRange SourceManager::line_range(FileId id, uint32_t line) const {
  const File& f = files_[id];
  if (line == 0 || line > f.line_starts.size()) {
    uint32_t end = static_cast<uint32_t>(f.text.size());
    return {id, end, end};
  }
  uint32_t start = f.line_starts[line - 1];
  size_t end = f.text.find('\n', start);
  if (end == std::string::npos) end = f.text.size();
  return {id, start, static_cast<uint32_t>(end)};
}

}  // namespace dnspc::diag
