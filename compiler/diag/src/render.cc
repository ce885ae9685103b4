// Diagnostics as people and machines read them.
#include <fmt/core.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "dnspc/diag/diagnostics.h"

namespace dnspc::diag {

namespace {

// A set file, a binary policy or a name in a message may hold control bytes;
// printed raw, an ESC sequence would drive the reader's terminal (set its
// title, hide text). Each becomes '?', one byte for one, so the caret under
// a snippet stays in its column. Tabs stay: the caret line copies them.
// Bytes outside well-formed UTF-8 become '?' too: the text also travels in
// JSON (the reload status in `stats`, the web API), which must be UTF-8.
std::string printable(std::string_view text) {
  std::string out(text);
  for (size_t i = 0; i < out.size();) {
    const auto b = static_cast<unsigned char>(out[i]);
    size_t n = utf8_sequence_length(out, i);
    if (n == 0 || (b < 0x20 && b != '\t') || b == 0x7f) {
      out[i] = '?';
      n = 1;
    }
    i += n;
  }
  return out;
}

void render_location(std::string& out, const SourceManager& sm, SourceRange r) {
  LineColumn lc = sm.position(r.file, r.begin);
  out += fmt::format("{}:{}:{}: ", printable(sm.path(r.file)), lc.line, lc.column);
}

// The source line, then a caret under the first character of the range and
// tildes under the rest of it (on that line). A long line (a generated rule,
// a binary file) is shown as a window around the range, marked with "...".
void render_snippet(std::string& out, const SourceManager& sm, SourceRange r) {
  constexpr uint32_t kBefore = 40, kWidth = 120;
  std::string_view line = sm.line_text(r.file, r.begin);
  LineColumn lc = sm.position(r.file, r.begin);
  uint32_t column = lc.column;  // 1-based, in bytes
  uint32_t from = 0;            // first byte of the line shown
  bool cut_left = false, cut_right = false;
  if (line.size() > kWidth) {
    if (column > kBefore + 1) {
      from = column - 1 - kBefore;
      while (from > 0 && (static_cast<unsigned char>(line[from]) & 0xc0) == 0x80) --from;
      cut_left = true;
    }
    size_t to = std::min<size_t>(line.size(), from + kWidth);
    while (to < line.size() && (static_cast<unsigned char>(line[to]) & 0xc0) == 0x80) ++to;
    cut_right = to < line.size();
    line = line.substr(from, to - from);
  }
  const char* left = cut_left ? "..." : "";
  out += fmt::format("  {}{}{}\n  {}", left, printable(line), cut_right ? "..." : "", left[0] ? "   " : "");
  uint32_t shown_column = column - from;
  for (uint32_t i = 1; i < shown_column && i <= line.size(); ++i) out += line[i - 1] == '\t' ? '\t' : ' ';
  out += '^';
  uint32_t line_end_column = static_cast<uint32_t>(line.size()) + 1;
  uint32_t end_column = std::min(line_end_column, shown_column + (r.end > r.begin ? r.end - r.begin : 1));
  for (uint32_t c = shown_column + 1; c < end_column; ++c) out += '~';
  out += '\n';
}

size_t kept(const Diagnostics& diags, Severity severity) {
  size_t n = 0;
  for (const Diagnostic& d : diags.all()) n += d.severity == severity;
  return n;
}

}  // namespace

std::string render_text(const Diagnostics& diags, bool color) {
  const SourceManager& sm = diags.sources();
  std::string out;
  for (const Diagnostic& d : diags.all()) {
    if (d.range.valid()) render_location(out, sm, d.range);
    const char* sev = severity_name(d.severity);
    if (color) {
      const char* c = d.severity == Severity::kError     ? "\033[1;31m"
                      : d.severity == Severity::kWarning ? "\033[1;35m"
                                                         : "\033[1;36m";
      out += fmt::format("{}{}:\033[0m \033[1m{}\033[0m [{}]\n", c, sev, printable(d.message), d.code);
    } else {
      out += fmt::format("{}: {} [{}]\n", sev, printable(d.message), d.code);
    }
    if (d.range.valid()) render_snippet(out, sm, d.range);
    for (const Note& n : d.notes) {
      if (n.range.valid()) render_location(out, sm, n.range);
      out += fmt::format("note: {}\n", printable(n.message));
      if (n.range.valid()) render_snippet(out, sm, n.range);
    }
  }
  if (size_t omitted = diags.omitted_count(); omitted > 0) {
    // Notes are never left out (Diagnostics::note): the rest are warnings.
    size_t errors = diags.error_count() - kept(diags, Severity::kError);
    out += fmt::format("note: {} more errors and {} more warnings not shown (only the first {} are)\n", errors,
                       omitted - errors, diags.all().size() - diags.note_count());
  }
  return out;
}

std::string render_json(const Diagnostics& diags) {
  const SourceManager& sm = diags.sources();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto place = [&](SourceRange r) {
    if (!r.valid()) return;
    LineColumn b = sm.position(r.file, r.begin);
    LineColumn e = sm.position(r.file, r.end);
    w.Key("file");
    w.String(printable(sm.path(r.file)).c_str());
    w.Key("line");
    w.Uint(b.line);
    w.Key("column");
    w.Uint(b.column);
    w.Key("end_line");
    w.Uint(e.line);
    w.Key("end_column");
    w.Uint(e.column);
  };
  w.StartObject();
  w.Key("version");
  w.Uint(1);
  w.Key("errors");
  w.Uint(static_cast<unsigned>(diags.error_count()));
  w.Key("warnings");
  w.Uint(static_cast<unsigned>(diags.warning_count()));
  w.Key("notes");
  w.Uint(static_cast<unsigned>(diags.note_count()));
  // Left out beyond the kept limit; "errors", "warnings" and "notes" count them too.
  w.Key("omitted");
  w.Uint(static_cast<unsigned>(diags.omitted_count()));
  w.Key("diagnostics");
  w.StartArray();
  for (const Diagnostic& d : diags.all()) {
    w.StartObject();
    place(d.range);
    w.Key("severity");
    w.String(severity_name(d.severity));
    w.Key("code");
    w.String(d.code.c_str());
    w.Key("message");
    w.String(printable(d.message).c_str());
    w.Key("notes");
    w.StartArray();
    for (const Note& n : d.notes) {
      w.StartObject();
      place(n.range);
      w.Key("message");
      w.String(printable(n.message).c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace dnspc::diag
