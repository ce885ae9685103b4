// The out-of-line parts of qtype_index.h: the builder and the check.
#include "dnspc/qtype_index.h"

namespace dnspc {

namespace {

void append_unique(std::vector<uint32_t>& ids, std::vector<uint32_t> list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
  ids.insert(ids.end(), list.begin(), list.end());
}

}  // namespace

QtypeIndex QtypeIndexBuilder::build() const {
  QtypeIndex x;
  auto it = lists_.begin();
  for (unsigned t = 0; t < 256; ++t) {
    x.small_begin[t] = static_cast<uint32_t>(x.ids.size());
    if (it != lists_.end() && it->first == t) {
      append_unique(x.ids, it->second);
      ++it;
    }
  }
  x.small_begin[256] = static_cast<uint32_t>(x.ids.size());
  x.large_begin.push_back(static_cast<uint32_t>(x.ids.size()));
  for (; it != lists_.end(); ++it) {
    x.large_qtypes.push_back(it->first);
    append_unique(x.ids, it->second);
    x.large_begin.push_back(static_cast<uint32_t>(x.ids.size()));
  }
  return x;
}

const char* qtype_index_check(const QtypeIndex& x) {
  if (x.small_begin[0] != 0) return "small index does not start at 0";
  for (unsigned t = 0; t < 256; ++t) {
    if (x.small_begin[t] > x.small_begin[t + 1]) return "small index not monotone";
  }
  if (x.small_begin[256] > x.ids.size()) return "small index past the ids";
  if (x.large_qtypes.empty() && x.large_begin.empty()) {  // a default index: no large qtypes
    if (x.small_begin[256] != x.ids.size()) return "ids outside every range";
  } else {
    if (x.large_begin.size() != x.large_qtypes.size() + 1) return "large index size";
    if (x.large_begin.front() != x.small_begin[256] || x.large_begin.back() != x.ids.size()) {
      return "large index bounds";
    }
    for (size_t i = 0; i < x.large_qtypes.size(); ++i) {
      if (x.large_qtypes[i] < 256) return "large qtype below 256";
      if (i > 0 && x.large_qtypes[i - 1] >= x.large_qtypes[i]) return "large qtypes not ascending";
      if (x.large_begin[i] > x.large_begin[i + 1]) return "large index not monotone";
    }
  }
  auto ascending = [&](uint32_t b, uint32_t e) {
    for (uint32_t j = b + 1; j < e; ++j) {
      if (x.ids[j - 1] >= x.ids[j]) return false;
    }
    return true;
  };
  for (unsigned t = 0; t < 256; ++t) {
    if (!ascending(x.small_begin[t], x.small_begin[t + 1])) return "ids not strictly ascending";
  }
  for (size_t i = 0; i + 1 < x.large_begin.size(); ++i) {
    if (!ascending(x.large_begin[i], x.large_begin[i + 1])) return "ids not strictly ascending";
  }
  return nullptr;
}

}  // namespace dnspc
