// Diagnostics as people and machines read them.
#include <fmt/core.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "dnspc/diag/diagnostics.h"

namespace dnspc::diag {

namespace {

// Every text from outside (a path, a line of a binary policy, a set file's
// entry) goes through printable_text: printed raw, an ESC sequence would
// drive the reader's terminal, and bytes outside UTF-8 would make the JSON
// the text also travels in (the reload status, the web API) invalid.

void render_location(std::string& out, const SourceManager& sm, SourceRange r) {
  LineColumn lc = sm.position(r.file, r.begin);
  out += fmt::format("{}:{}:{}: ", printable_text(sm.path(r.file)), lc.line, lc.column);
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
  out += fmt::format("  {}{}{}\n  {}", left, printable_text(line), cut_right ? "..." : "", left[0] ? "   " : "");
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
      out += fmt::format("{}{}:\033[0m \033[1m{}\033[0m [{}]\n", c, sev, printable_text(d.message), d.code);
    } else {
      out += fmt::format("{}: {} [{}]\n", sev, printable_text(d.message), d.code);
    }
    if (d.range.valid()) render_snippet(out, sm, d.range);
    for (const Note& n : d.notes) {
      if (n.range.valid()) render_location(out, sm, n.range);
      out += fmt::format("note: {}\n", printable_text(n.message));
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
    w.String(printable_text(sm.path(r.file)).c_str());
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
    w.String(printable_text(d.message).c_str());
    w.Key("notes");
    w.StartArray();
    for (const Note& n : d.notes) {
      w.StartObject();
      place(n.range);
      w.Key("message");
      w.String(printable_text(n.message).c_str());
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
