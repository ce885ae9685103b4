// Plain-text tables for the console's answers: a header, rows, columns as
// wide as their widest cell, numbers right-aligned. UTF-8 names are counted
// by code points, so non-ASCII names keep their columns straight.
#pragma once

#include <string>
#include <vector>

namespace dnspc::runtime::console {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // A rule under the rows, then this row (a totals row).
  void add_footer(std::vector<std::string> row) { footer_ = std::move(row); }
  bool empty() const { return rows_.empty(); }
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::string> footer_;
};

}  // namespace dnspc::runtime::console
