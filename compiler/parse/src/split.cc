#include "split.h"

namespace dnspc::parse {

std::vector<size_t> split_statements(std::string_view text, size_t max_chunks, size_t min_chunk) {
  std::vector<size_t> starts{0};
  if (max_chunks <= 1 || text.size() < 2 * min_chunk) return starts;
  size_t target = std::max(min_chunk, text.size() / max_chunks);
  int depth = 0;
  bool after_tilde = false;  // the next '/' opens a regex
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
      after_tilde = false;
      continue;
    }
    if (c == '~') {
      after_tilde = true;
      continue;
    }
    if (after_tilde && c == '/') {
      for (++i; i < text.size() && text[i] != '/' && text[i] != '\n'; ++i) {
        if (text[i] == '\\') ++i;
      }
      after_tilde = false;
      continue;
    }
    if (c != ' ' && c != '\t') after_tilde = false;
    if (c == '{') ++depth;
    bool ends_statement = (c == ';' && depth == 0) || (c == '}' && --depth == 0);
    if (depth < 0) return {0};  // unbalanced: let one parser report it
    if (ends_statement && i + 1 - starts.back() >= target && text.size() - (i + 1) >= min_chunk &&
        starts.size() < max_chunks) {
      starts.push_back(i + 1);
    }
  }
  return starts;
}

}  // namespace dnspc::parse
