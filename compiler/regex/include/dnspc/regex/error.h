// How the regex passes report failure: a message about a byte range of the
// pattern, so the policy compiler can underline it in the policy source.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace dnspc::regex {

struct RegexError {
  uint32_t offset = 0;  // byte offset inside the pattern (not the policy file)
  uint32_t length = 0;  // bytes covered; 0 for "at this point"
  std::string message;  // names the feature and the fix
};

// Either a value or a RegexError (std::expected arrives with C++23).
template <typename T>
class RegexResult {
 public:
  RegexResult(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  RegexResult(RegexError error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const RegexError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, RegexError> v_;
};

}  // namespace dnspc::regex
