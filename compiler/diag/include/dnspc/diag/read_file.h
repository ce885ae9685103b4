// Reading the files a policy names (the policy, set files, Lua files, case
// files) without trusting them: a FIFO must not hang a reload, /dev/zero or
// a runaway file must not fill memory. Regular files only, opened without
// blocking, read up to a size limit.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace dnspc::diag {

// The limits, documented in docs/language.md ("Files").
inline constexpr size_t kMaxPolicyFileBytes = size_t{256} << 20;
inline constexpr size_t kMaxSetFileBytes = size_t{256} << 20;
inline constexpr size_t kMaxSetFilesTotalBytes = size_t{1} << 30;  // all set files of one policy
inline constexpr size_t kMaxSetFileLineBytes = 4096;
inline constexpr size_t kMaxLuaFileBytes = size_t{16} << 20;

// The whole text of `path`, or nullopt with `error` saying why in words that
// follow "cannot read FILE: " (e.g. "it is a FIFO, not a regular file").
std::optional<std::string> read_regular_file(const std::string& path, size_t max_bytes, std::string& error);

// "12.0 MiB", "300 KiB", "17 bytes": sizes in messages.
std::string format_size(size_t bytes);

}  // namespace dnspc::diag
