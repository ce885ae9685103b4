#include "dnspc/runtime/log.h"

#include <fmt/core.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "dnspc/utf8.h"

namespace dnspc::runtime {

namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

void set_log_format(LogFormat format) { g_format.store(format, std::memory_order_relaxed); }
LogFormat log_format() { return g_format.load(std::memory_order_relaxed); }

void format_timestamp(char (&out)[32]) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  format_utc(ts.tv_sec, static_cast<unsigned>(ts.tv_nsec / 1000000), out);
}

void format_utc(int64_t secs, unsigned millis, char (&out)[32]) {
  // By hand (Howard Hinnant's civil_from_days): gmtime_r takes glibc's
  // timezone lock, and the `log` modifier formats on the packet path.
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  char tmp[128];  // roomy for any int64, so the compiler sees no truncation
  snprintf(tmp, sizeof tmp, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03uZ", static_cast<long long>(y),
           static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(rem / 3600),
           static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60), millis % 1000);
  std::memcpy(out, tmp, sizeof out - 1);
  out[sizeof out - 1] = 0;
}

void append_json_escaped(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          // Bytes, not UTF-8: DNS names are octets; show each as \u00XX.
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

size_t append_json_escaped(char* out, size_t len, size_t cap, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : text) {
    char tmp[6];
    size_t n = 0;
    if (c == '"' || c == '\\') {
      tmp[0] = '\\';
      tmp[1] = static_cast<char>(c);
      n = 2;
    } else if (c < 0x20 || c >= 0x7f) {
      tmp[0] = '\\';
      tmp[1] = 'u';
      tmp[2] = '0';
      tmp[3] = '0';
      tmp[4] = kHex[c >> 4];
      tmp[5] = kHex[c & 15];
      n = 6;
    } else {
      tmp[0] = static_cast<char>(c);
      n = 1;
    }
    if (len + n > cap) return len;
    for (size_t i = 0; i < n; ++i) out[len++] = tmp[i];
  }
  return len;
}

// Text logs are read by people and by line-based tools: a byte that would
// end the line, move the cursor or not print as UTF-8 is written as an
// escape (\n, \t, \xNN), so nothing a client's query or a Lua hook's error
// put into a message can forge a line or a field. Inside a quoted value,
// quotes and backslashes are escaped too.
void append_text_escaped(std::string& out, std::string_view text, bool quoted) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const char* named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
    if (named) {
      out += named;
      ++i;
    } else if (quoted && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (size_t n = utf8_sequence_length(text, i); c < 0x20 || c == 0x7f || n == 0) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
}

std::string format_log_line(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  char ts[32];
  format_timestamp(ts);
  std::string line;
  if (log_format() == LogFormat::kJson) {
    line = fmt::format("{{\"ts\":\"{}\",\"level\":\"{}\",\"msg\":\"", ts, level_name(level));
    append_json_escaped(line, message);
    line += '"';
    for (const LogField& f : fields) {
      line += ",\"";
      append_json_escaped(line, f.key);
      line += "\":";
      if (f.is_number) {
        line += f.value;
      } else {
        line += '"';
        append_json_escaped(line, f.value);
        line += '"';
      }
    }
    line += "}\n";
  } else {
    line = fmt::format("{} {}: ", ts, level_name(level));
    append_text_escaped(line, message, false);
    for (const LogField& f : fields) {
      const bool quote = f.value.empty() || f.value.find_first_of(" =\"") != std::string::npos;
      line += ' ';
      append_text_escaped(line, f.key, false);
      line += quote ? "=\"" : "=";
      append_text_escaped(line, f.value, quote);
      if (quote) line += '"';
    }
    line += '\n';
  }
  return line;
}

void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  std::string line = format_log_line(level, message, fields);
  write_all(STDERR_FILENO, line.data(), line.size());
}

}  // namespace dnspc::runtime
