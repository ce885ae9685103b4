// BPF maps through bpf(2): create, update, look up, remove, and the per-CPU
// counter sums the metrics table reads.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "dnspc/runtime/xdp.h"
#include "libbpf_glue.h"

namespace dnspc::xdp {

namespace {

bpf_map_type kernel_type(MapType type) {
  switch (type) {
    case MapType::hash:
      return BPF_MAP_TYPE_HASH;
    case MapType::array:
      return BPF_MAP_TYPE_ARRAY;
    case MapType::percpu_array:
      return BPF_MAP_TYPE_PERCPU_ARRAY;
    case MapType::lpm_trie:
      return BPF_MAP_TYPE_LPM_TRIE;
    case MapType::lru_hash:
      return BPF_MAP_TYPE_LRU_HASH;
  }
  return BPF_MAP_TYPE_UNSPEC;
}

const char* type_name(MapType type) {
  switch (type) {
    case MapType::hash:
      return "hash";
    case MapType::array:
      return "array";
    case MapType::percpu_array:
      return "percpu_array";
    case MapType::lpm_trie:
      return "lpm_trie";
    case MapType::lru_hash:
      return "lru_hash";
  }
  return "?";
}

bool per_cpu(MapType type) {
  return type == MapType::percpu_array;
}

size_t round_up_8(size_t n) {
  return (n + 7) / 8 * 8;
}

// Entries per batched read in sum_u64_all: bounds its buffer.
constexpr uint32_t kBatchEntries = 4096;

}  // namespace

Map::Map(MapSpec spec, int fd, size_t value_buffer_size)
    : spec_(std::move(spec)), fd_(fd), value_buffer_size_(value_buffer_size) {}

Map::~Map() {
  ::close(fd_);
}

std::unique_ptr<Map> Map::create(MapSpec spec, std::string& error) {
  detail::capture_libbpf_messages();
  std::string name = detail::kernel_object_name(spec.name);
  auto describe = [&] {
    return fmt::format("BPF map {} ({}, key {} B, value {} B, {} entries)", spec.name,
                       type_name(spec.type), spec.key_size, spec.value_size, spec.max_entries);
  };
  size_t buffer = spec.value_size;
  if (per_cpu(spec.type)) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) {
      error = fmt::format("cannot create {}: the number of possible CPUs is unknown ({})",
                          describe(), detail::errno_text(cpus));
      return nullptr;
    }
    buffer = round_up_8(spec.value_size) * static_cast<size_t>(cpus);
  }
  bpf_map_create_opts opts{};
  opts.sz = sizeof opts;
  // The kernel insists: an LPM trie allocates its nodes as they come.
  if (spec.type == MapType::lpm_trie) opts.map_flags = BPF_F_NO_PREALLOC;
  int fd = bpf_map_create(kernel_type(spec.type), name.c_str(), spec.key_size, spec.value_size,
                          spec.max_entries, &opts);
  if (fd < 0) {
    std::string why = detail::errno_text(fd);
    if (fd == -EPERM) {
      why += ": creating BPF maps needs CAP_BPF (or root)";
    } else if (fd == -EINVAL) {
      why += ": the kernel refused these sizes for this map type";
    } else if (fd == -ENOMEM || fd == -E2BIG) {
      why += ": too large for the kernel's limits";
    }
    error = fmt::format("cannot create {}: {}", describe(), why);
    return nullptr;
  }
  return std::unique_ptr<Map>(new Map(std::move(spec), fd, buffer));
}

bool Map::update(std::span<const uint8_t> key, std::span<const uint8_t> value, std::string& error) {
  if (key.size() != spec_.key_size || value.size() != value_buffer_size_) {
    error = fmt::format("BPF map {}: update with a {} B key and {} B value, it takes {} and {}",
                        spec_.name, key.size(), value.size(), spec_.key_size, value_buffer_size_);
    return false;
  }
  int rc = bpf_map_update_elem(fd_, key.data(), value.data(), BPF_ANY);
  if (rc == 0) return true;
  bool indexed = spec_.type == MapType::array || spec_.type == MapType::percpu_array;
  if (rc == -E2BIG && indexed) {
    error =
        fmt::format("BPF map {}: index past its end ({} entries)", spec_.name, spec_.max_entries);
  } else if (rc == -E2BIG) {
    error = fmt::format("BPF map {} is full ({} entries)", spec_.name, spec_.max_entries);
  } else {
    error = fmt::format("BPF map {}: update failed: {}", spec_.name, detail::errno_text(rc));
  }
  return false;
}

bool Map::update_many(std::span<const uint8_t> keys, std::span<const uint8_t> values, size_t count,
                      std::string& error) {
  if (keys.size() != count * spec_.key_size || values.size() != count * value_buffer_size_) {
    error = fmt::format("BPF map {}: {} updates with {} B of keys and {} B of values", spec_.name, count, keys.size(),
                        values.size());
    return false;
  }
  size_t done = 0;
  // Batches of at most 64k entries: one system call each.
  while (done < count) {
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(count - done, 65536));
    bpf_map_batch_opts opts{};
    opts.sz = sizeof opts;
    int rc = bpf_map_update_batch(fd_, keys.data() + done * spec_.key_size, values.data() + done * value_buffer_size_,
                                  &n, &opts);
    if (rc != 0) break;
    done += n;
  }
  // A map type without batches (LPM tries): one entry at a time.
  for (; done < count; ++done) {
    if (!update(keys.subspan(done * spec_.key_size, spec_.key_size),
                values.subspan(done * value_buffer_size_, value_buffer_size_), error)) {
      return false;
    }
  }
  return true;
}

bool Map::lookup(std::span<const uint8_t> key, std::span<uint8_t> value) const {
  if (key.size() != spec_.key_size || value.size() != value_buffer_size_) return false;
  return bpf_map_lookup_elem(fd_, key.data(), value.data()) == 0;
}

bool Map::remove(std::span<const uint8_t> key) {
  if (key.size() != spec_.key_size) return false;
  return bpf_map_delete_elem(fd_, key.data()) == 0;
}

std::optional<uint64_t> Map::sum_u64(uint32_t index) const {
  if (!per_cpu(spec_.type) || spec_.value_size != 8 || index >= spec_.max_entries) {
    return std::nullopt;
  }
  std::vector<uint64_t> values(value_buffer_size_ / 8);
  if (bpf_map_lookup_elem(fd_, &index, values.data()) != 0) return std::nullopt;
  uint64_t sum = 0;
  for (uint64_t v : values) sum += v;
  return sum;
}

std::vector<uint64_t> Map::sum_u64_all() const {
  if (!per_cpu(spec_.type) || spec_.value_size != 8) return {};
  size_t cpus = value_buffer_size_ / 8;
  std::vector<uint64_t> sums(spec_.max_entries, 0);
  std::vector<uint32_t> keys(kBatchEntries);
  std::vector<uint64_t> values(size_t{kBatchEntries} * cpus);
  bpf_map_batch_opts opts{};
  opts.sz = sizeof opts;
  uint32_t cursor = 0;
  bool first = true;
  for (;;) {
    uint32_t count = kBatchEntries;
    int rc = bpf_map_lookup_batch(fd_, first ? nullptr : &cursor, &cursor, keys.data(),
                                  values.data(), &count, &opts);
    if (rc != 0 && rc != -ENOENT) {
      // A kernel without batched array reads: one lookup per index.
      return sum_u64_each();
    }
    first = false;
    for (uint32_t i = 0; i < count; ++i) {
      if (keys[i] >= sums.size()) continue;
      uint64_t sum = 0;
      for (size_t c = 0; c < cpus; ++c) sum += values[i * cpus + c];
      sums[keys[i]] = sum;
    }
    if (rc == -ENOENT) return sums;  // the end of the array
  }
}

std::vector<uint64_t> Map::sum_u64_each() const {
  std::vector<uint64_t> sums(spec_.max_entries, 0);
  for (uint32_t i = 0; i < spec_.max_entries; ++i) sums[i] = sum_u64(i).value_or(0);
  return sums;
}

}  // namespace dnspc::xdp
