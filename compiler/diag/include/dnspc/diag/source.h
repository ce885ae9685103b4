// Source files and ranges. Every AST node and diagnostic carries a range of
// byte offsets into a file the SourceManager owns; lines and columns are
// computed only when a diagnostic is printed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dnspc::diag {

using FileId = uint32_t;
constexpr FileId kNoFile = UINT32_MAX;

struct SourceRange {
  FileId file = kNoFile;
  uint32_t begin = 0;  // byte offset of the first character
  uint32_t end = 0;    // byte offset one past the last character

  bool valid() const { return file != kNoFile; }
};

struct LineColumn {
  uint32_t line = 0;    // 1-based
  uint32_t column = 0;  // 1-based, in bytes
};

class SourceManager {
 public:
  // Takes the file's text; `path` is how diagnostics name it.
  FileId add(std::string path, std::string text);

  size_t file_count() const { return files_.size(); }
  const std::string& path(FileId id) const { return files_[id].path; }
  std::string_view text(FileId id) const { return files_[id].text; }
  LineColumn position(FileId id, uint32_t offset) const;
  // The whole line holding `offset`, without its newline.
  std::string_view line_text(FileId id, uint32_t offset) const;
  // The range of a 1-based line (and optional column span) in a file, for
  // sources that report lines only (set files, Lua).
  SourceRange line_range(FileId id, uint32_t line) const;

 private:
  struct File {
    std::string path;
    std::string text;
    std::vector<uint32_t> line_starts;
  };
  std::vector<File> files_;
};

}  // namespace dnspc::diag
