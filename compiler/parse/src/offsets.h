// ANTLR indexes characters (code points) of the text it was given; our
// ranges are byte offsets into the whole file. The map adds the chunk's own
// offset in the file (see split.h), and for pure ASCII text the character
// and byte positions agree, so the table stays empty.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace dnspc::parse {

class OffsetMap {
 public:
  explicit OffsetMap(std::string_view utf8, uint32_t base = 0) : base_(base) {
    bool ascii = true;
    for (unsigned char c : utf8) ascii &= c < 0x80;
    if (ascii) return;
    for (uint32_t i = 0; i < utf8.size(); ++i) {
      // A code point starts at every byte that is not a continuation byte.
      if ((static_cast<unsigned char>(utf8[i]) & 0xc0) != 0x80) starts_.push_back(i);
    }
    starts_.push_back(static_cast<uint32_t>(utf8.size()));
  }
  bool ascii() const { return starts_.empty(); }
  uint32_t byte_offset(size_t char_index) const {
    if (starts_.empty()) return base_ + static_cast<uint32_t>(char_index);
    return base_ + (char_index < starts_.size() ? starts_[char_index] : starts_.back());
  }

 private:
  uint32_t base_ = 0;
  std::vector<uint32_t> starts_;
};

}  // namespace dnspc::parse
