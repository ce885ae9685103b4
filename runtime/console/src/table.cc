#include "table.h"

#include <algorithm>

namespace dnspc::runtime::console {

namespace {

size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool numeric(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '%';
  });
}

}  // namespace

std::string TextTable::render() const {
  std::vector<size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width(row[i]));
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  measure(footer_);
  std::string out;
  auto line = [&](const std::vector<std::string>& row, bool head) {
    std::string text;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      const std::string pad(widths[i] - width(cell), ' ');
      const bool right = !head && numeric(cell);
      if (i) text += "  ";
      text += right ? pad + cell : cell + (i + 1 == widths.size() ? "" : pad);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  line(header_, true);
  for (const auto& r : rows_) line(r, false);
  if (!footer_.empty()) {
    size_t total = 0;
    for (size_t w : widths) total += w;
    out += std::string(total + 2 * (widths.size() - 1), '-') + "\n";
    line(footer_, false);
  }
  return out;
}

}  // namespace dnspc::runtime::console
