#include "libbpf_glue.h"

#include <bpf/libbpf.h>

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace dnspc::xdp::detail {

namespace {

thread_local std::string kernel_message;

int on_libbpf_message(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = std::vsnprintf(line, sizeof line, format, args);
  if (n <= 0) return 0;
  std::string_view text(line);
  constexpr std::string_view kMarker = "Kernel error message: ";
  if (auto at = text.find(kMarker); at != std::string_view::npos) {
    text.remove_prefix(at + kMarker.size());
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    }
    kernel_message.assign(text);
  }
  return 0;
}

}  // namespace

std::string errno_text(int error_number) {
  int e = error_number < 0 ? -error_number : error_number;
  const char* name = strerrorname_np(e);
  std::string text = name ? name : "errno " + std::to_string(e);
  text += ": ";
  text += std::strerror(e);
  return text;
}

std::string kernel_object_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 15)) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

void capture_libbpf_messages() {
  // libbpf_set_print is process-wide and not thread-safe: set it once.
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(on_libbpf_message); });
}

std::string take_kernel_message() {
  std::string out;
  out.swap(kernel_message);
  return out;
}

}  // namespace dnspc::xdp::detail
