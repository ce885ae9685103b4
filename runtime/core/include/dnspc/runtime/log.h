// Logging to stderr, as text lines or one JSON object per line. Every line is
// formatted first and written with one write(2), so lines from different
// threads never interleave. Not on the packet path: the `log` modifier's
// lines are formatted by the workers into a fixed buffer (src/query_log.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace dnspc::runtime {

enum class LogFormat : uint8_t { kText, kJson };
enum class LogLevel : uint8_t { kInfo, kWarning, kError };

struct LogField {
  std::string_view key;
  std::string value;
  bool is_number = false;  // JSON: unquoted

  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), is_number(true) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)), is_number(true) {}
  LogField(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), is_number(true) {}
};

void set_log_format(LogFormat format);
LogFormat log_format();

// "2024-01-02T03:04:05.678Z warning: message key=value ..." or
// {"ts":"...","level":"warning","msg":"message","key":"value",...}
void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
std::string format_log_line(LogLevel level, std::string_view message, std::initializer_list<LogField> fields);

// JSON string escaping (quotes not included), for logs and the control socket.
void append_json_escaped(std::string& out, std::string_view text);
// The same into a fixed buffer; returns the new length, at most `cap`
// (silently cut short when full).
size_t append_json_escaped(char* out, size_t len, size_t cap, std::string_view text);
// Text-log escaping: control bytes and bytes outside UTF-8 as \n, \r, \t
// or \xNN (and, in a quoted value, " and \ with a backslash), so no
// message or value can end a line or a field early.
void append_text_escaped(std::string& out, std::string_view text, bool quoted);

// Current wall-clock time as "2024-01-02T03:04:05.678Z" into `out` (24 bytes + NUL).
// Takes no lock (gmtime_r would), so the `log` modifier may call it per query.
void format_timestamp(char (&out)[32]);
void format_utc(int64_t unix_seconds, unsigned millis, char (&out)[32]);

}  // namespace dnspc::runtime
