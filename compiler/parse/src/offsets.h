// ANTLR indexes characters (code points); our ranges are byte offsets. For
// pure ASCII files, the two agree and the map stays empty.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace dnspc::parse {

class OffsetMap {
 public:
  explicit OffsetMap(std::string_view utf8) {
    bool ascii = true;
    for (unsigned char c : utf8) ascii &= c < 0x80;
    if (ascii) return;
    for (uint32_t i = 0; i < utf8.size(); ++i) {
      // A code point starts at every byte that is not a continuation byte.
      if ((static_cast<unsigned char>(utf8[i]) & 0xc0) != 0x80) starts_.push_back(i);
    }
    starts_.push_back(static_cast<uint32_t>(utf8.size()));
  }
  uint32_t byte_offset(size_t char_index) const {
    if (starts_.empty()) return static_cast<uint32_t>(char_index);
    return char_index < starts_.size() ? starts_[char_index] : starts_.back();
  }

 private:
  std::vector<uint32_t> starts_;
};

}  // namespace dnspc::parse
