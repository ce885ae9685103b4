// The out-of-line parts of name_index.h: the probe, the builder and the
// well-formedness check.
#include "dnspc/name_index.h"

#include <algorithm>

#include "dnspc/candidate_merge.h"

namespace dnspc {

namespace {

inline bool length_present(const NameIndex& x, size_t len) {
  return ((x.length_mask[(len >> 6) & 3] >> (len & 63)) & 1) != 0;
}

void sort_unique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Lists for every suffix of a name plus the exact list of the whole name.
using NameMerge = CandidateMergeN<kMaxLabels + 2>;

inline void add_key(const NameIndex& x, uint32_t key, bool whole, NameMerge& m) {
  const uint32_t* ids = x.ids.data();
  const uint32_t* b = x.id_begin.data() + 2 * size_t{key};
  if (whole) m.add(ids + b[0], b[1] - b[0]);
  m.add(ids + b[1], b[2] - b[1]);
}

}  // namespace

uint32_t name_probe(const NameIndex& x, const QueryView& q, uint32_t* out, uint32_t cap) {
  NameMerge m;
  const unsigned n = q.qname_length;
  const unsigned labels = q.label_count <= kMaxLabels ? q.label_count : kMaxLabels;
  for (unsigned i = 0; i <= labels; ++i) {
    const unsigned off = q.label_offsets[i];
    if (off >= n) break;  // not a view parse_query made; read no further
    const unsigned len = n - off;
    if (!length_present(x, len)) continue;
    const uint32_t key = name_find(x, q.qname_lower + off, len);
    if (key != kNoNameKey) add_key(x, key, i == 0, m);
  }
  return m.drain(out, cap);
}

uint32_t name_probe_wire(const NameIndex& x, const uint8_t* name, size_t len, uint32_t* out,
                         uint32_t cap) {
  if (wire_name_error(name, len) != nullptr) return 0;
  NameMerge m;
  size_t off = 0;
  for (;;) {
    const size_t rest = len - off;
    if (length_present(x, rest)) {
      const uint32_t key = name_find(x, name + off, rest);
      if (key != kNoNameKey) add_key(x, key, off == 0, m);
    }
    if (name[off] == 0) break;
    off += name[off] + 1u;
  }
  return m.drain(out, cap);
}

const char* wire_name_error(const uint8_t* wire, size_t len) {
  if (len == 0) return "empty name (the root is one zero byte)";
  if (len > kMaxNameLength) return "name longer than 255 bytes";
  size_t off = 0;
  for (;;) {
    if (off >= len) return "name does not end with the root byte";
    const uint8_t l = wire[off];
    if (l == 0) break;
    if (l > 63) return "label longer than 63 bytes or a compression pointer";
    off += l + 1u;
  }
  if (off + 1 != len) return "bytes after the root byte";
  return nullptr;
}

const char* NameIndexBuilder::add(std::string_view wire, NameMode mode, uint32_t test_id) {
  return add(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(wire.data()), wire.size()),
             mode, test_id);
}

const char* NameIndexBuilder::add(std::span<const uint8_t> wire, NameMode mode, uint32_t test_id) {
  if (const char* err = wire_name_error(wire.data(), wire.size())) return err;
  std::string key(reinterpret_cast<const char*>(wire.data()), wire.size());
  // Fold only label bytes: a length byte is at most 63, below 'A'.
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  Lists& lists = keys_[key];
  (mode == NameMode::kExact ? lists.exact : lists.suffix).push_back(test_id);
  return nullptr;
}

NameIndex NameIndexBuilder::build() const {
  NameIndex x;
  x.key_count = static_cast<uint32_t>(keys_.size());
  const uint32_t slot_count = flat::slot_count_for(keys_.size());
  x.slot_mask = slot_count - 1;
  x.slots.assign(2 * size_t{slot_count}, 0);
  x.key_begin.reserve(keys_.size() + 1);
  x.id_begin.reserve(2 * keys_.size() + 1);
  x.key_begin.push_back(0);
  x.id_begin.push_back(0);

  uint32_t k = 0;
  for (const auto& [key, lists] : keys_) {
    std::vector<uint32_t> suffix = lists.suffix;
    sort_unique(suffix);
    std::vector<uint32_t> exact;
    exact.reserve(lists.exact.size());
    for (uint32_t id : lists.exact) {
      if (!std::binary_search(suffix.begin(), suffix.end(), id)) exact.push_back(id);
    }
    sort_unique(exact);
    x.ids.insert(x.ids.end(), exact.begin(), exact.end());
    x.id_begin.push_back(static_cast<uint32_t>(x.ids.size()));
    x.ids.insert(x.ids.end(), suffix.begin(), suffix.end());
    x.id_begin.push_back(static_cast<uint32_t>(x.ids.size()));

    x.key_bytes.insert(x.key_bytes.end(), key.begin(), key.end());
    x.key_begin.push_back(static_cast<uint32_t>(x.key_bytes.size()));
    x.length_mask[key.size() >> 6] |= uint64_t{1} << (key.size() & 63);

    const uint64_t h = flat::hash_bytes(reinterpret_cast<const uint8_t*>(key.data()), key.size());
    uint32_t s = static_cast<uint32_t>(h) & x.slot_mask;
    while (x.slots[2 * size_t{s} + 1] != 0) s = (s + 1) & x.slot_mask;
    x.slots[2 * size_t{s}] = static_cast<uint32_t>(h >> 32);
    x.slots[2 * size_t{s} + 1] = k + 1;
    ++k;
  }
  return x;
}

const char* name_index_check(const NameIndex& x) {
  const size_t keys = x.key_count;
  if (x.slots.empty()) {
    if (keys != 0 || !x.key_begin.empty() || !x.id_begin.empty() || !x.ids.empty() ||
        !x.key_bytes.empty() || x.slot_mask != 0) {
      return "keys without slots";
    }
    return nullptr;  // a default, empty index
  }
  const uint64_t slot_count = uint64_t{x.slot_mask} + 1;
  if ((slot_count & x.slot_mask) != 0) return "slot count not a power of two";
  if (x.slots.size() != 2 * slot_count) return "slot array size";
  if (keys >= slot_count) return "no empty slot";
  if (x.key_begin.size() != keys + 1 || x.key_begin.front() != 0 ||
      x.key_begin.back() != x.key_bytes.size()) {
    return "key index bounds";
  }
  if (x.id_begin.size() != 2 * keys + 1 || x.id_begin.front() != 0 ||
      x.id_begin.back() != x.ids.size()) {
    return "id index bounds";
  }
  for (size_t i = 0; i + 1 < x.id_begin.size(); ++i) {
    if (x.id_begin[i] > x.id_begin[i + 1]) return "id index not monotone";
  }
  for (size_t i = 0; i + 1 < x.key_begin.size(); ++i) {
    if (x.key_begin[i] > x.key_begin[i + 1]) return "key index not monotone";
  }
  for (size_t i = 0; i + 1 < x.id_begin.size(); ++i) {
    for (uint32_t j = x.id_begin[i] + 1; j < x.id_begin[i + 1]; ++j) {
      if (x.ids[j - 1] >= x.ids[j]) return "ids not strictly ascending";
    }
  }
  size_t used = 0;
  for (uint64_t s = 0; s < slot_count; ++s) {
    const uint32_t k1 = x.slots[2 * s + 1];
    if (k1 == 0) continue;
    if (k1 > keys) return "slot refers past the keys";
    ++used;
  }
  if (used != keys) return "slot count differs from key count";
  for (uint32_t k = 0; k < keys; ++k) {
    const uint8_t* key = x.key_bytes.data() + x.key_begin[k];
    const size_t len = x.key_begin[k + 1] - x.key_begin[k];
    if (wire_name_error(key, len) != nullptr) return "key is not a wire name";
    if (!length_present(x, len)) return "length mask misses a key";
    if (name_find(x, key, len) != k) return "key not found at its slot";
  }
  return nullptr;
}

}  // namespace dnspc
