// Named sets, inline or from a file (one entry a line, '#' comments).
#include <algorithm>
#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "analyzer.h"
#include "dnspc/diag/read_file.h"

namespace dnspc::sema {

namespace {

SetKind to_kind(ast::SetKind k) {
  switch (k) {
    case ast::SetKind::kSuffixes: return SetKind::kSuffixes;
    case ast::SetKind::kNames: return SetKind::kNames;
    case ast::SetKind::kNetmasks: return SetKind::kNetmasks;
    case ast::SetKind::kQtypes: return SetKind::kQtypes;
  }
  return SetKind::kSuffixes;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A file entry becomes a value as if written inline, so both paths share
// one set of checks.
std::optional<ast::Value> value_from_line(std::string_view text, ast::SetKind kind,
                                          diag::SourceRange range) {
  ast::Value v;
  v.range = range;
  v.text = std::string(text);
  switch (kind) {
    case ast::SetKind::kSuffixes:
    case ast::SetKind::kNames:
      v.kind = ast::Value::Kind::kString;
      return v;
    case ast::SetKind::kQtypes:
      v.kind = ast::Value::Kind::kIdent;
      return v;
    case ast::SetKind::kNetmasks: {
      v.kind = ast::Value::Kind::kNetmask;
      size_t slash = text.find('/');
      auto addr = NetAddress::parse(text.substr(0, slash));
      if (!addr || addr->port != 0) return std::nullopt;
      v.netmask.address = *addr;
      v.netmask.range = range;
      if (slash != std::string_view::npos) {
        std::string len(text.substr(slash + 1));
        if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) {
          return std::nullopt;
        }
        int n = std::stoi(len);
        if (n > (addr->is_v6() ? 128 : 32)) return std::nullopt;
        v.netmask.prefix = n;
      }
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

void Analyzer::analyze_sets() {
  for (const ast::SetDecl& decl : ast_.sets) {
    if (auto it = set_decls_.find(decl.name.text); it != set_decls_.end()) {
      auto& d = diags_.error("duplicate-set", decl.name.range,
                             fmt::format("set '{}' is defined twice", decl.name.text));
      d.notes.push_back({it->second->name.range, "first defined here"});
      continue;
    }
    set_decls_[decl.name.text] = &decl;
    NamedSet set;
    set.name = decl.name.text;
    set.kind = to_kind(decl.kind);
    set.range = decl.name.range;
    std::map<std::string, diag::SourceRange> seen;
    if (decl.file) {
      load_set_file(decl, set);
    } else {
      for (const ast::Value& v : decl.entries) add_set_entry(v, set, seen);
    }
    if (set.names.empty() && set.prefixes.empty() && set.qtypes.empty() && !has_errors()) {
      diags_.warning("empty-set", decl.name.range,
                     fmt::format("set '{}' is empty; nothing will match it", decl.name.text));
    }
    model_.sets.push_back(std::move(set));
  }
}

void Analyzer::load_set_file(const ast::SetDecl& decl, NamedSet& set) {
  std::string path = resolve_path(*decl.file);
  if (cancelled()) return;
  std::string error;
  size_t budget = diag::kMaxSetFilesTotalBytes - std::min(set_file_bytes_, diag::kMaxSetFilesTotalBytes);
  std::optional<std::string> read =
      diag::read_regular_file(path, std::min(diag::kMaxSetFileBytes, budget), error);
  if (!read) {
    bool missing = error == std::strerror(ENOENT);
    diags_.error(missing ? "missing-file" : "bad-file", decl.file_range,
                 budget < diag::kMaxSetFileBytes && error.find("the limit") != std::string::npos
                     ? fmt::format("cannot read set file '{}': the set files of one policy may hold at most {} "
                                   "together",
                                   *decl.file, diag::format_size(diag::kMaxSetFilesTotalBytes))
                     : fmt::format("cannot read set file '{}' (looked for {}){}{}", *decl.file, path,
                                   missing ? "" : ": ", missing ? "" : error));
    return;
  }
  set_file_bytes_ += read->size();
  auto& sources = diags_.sources();
  diag::FileId file = sources.add(path, std::move(*read));
  std::string_view text = sources.text(file);
  std::map<std::string, diag::SourceRange> seen;
  uint32_t line_start = 0;
  while (line_start <= text.size()) {
    size_t nl = text.find('\n', line_start);
    uint32_t line_end = static_cast<uint32_t>(nl == std::string_view::npos ? text.size() : nl);
    if (line_end - line_start > diag::kMaxSetFileLineBytes) {
      // A binary file or a wrong file: one message, not one per entry.
      diags_.error("line-too-long", {file, line_start, line_start + 1},
                   fmt::format("line longer than {} bytes in set file '{}'; is it the right file?",
                               diag::kMaxSetFileLineBytes, *decl.file));
      return;
    }
    std::string_view line = text.substr(line_start, line_end - line_start);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::string_view entry = trim(line);
    if (!entry.empty()) {
      uint32_t begin = static_cast<uint32_t>(entry.data() - text.data());
      diag::SourceRange range{file, begin, begin + static_cast<uint32_t>(entry.size())};
      auto value = value_from_line(entry, decl.kind, range);
      if (!value) {
        diags_.error("bad-set-entry", range,
                     fmt::format("'{}' is not a valid {} entry", entry, ast::set_kind_name(decl.kind)));
      } else {
        add_set_entry(*value, set, seen);
      }
    }
    if (nl == std::string_view::npos) break;
    line_start = line_end + 1;
  }
}

void Analyzer::add_set_entry(const ast::Value& v, NamedSet& set,
                             std::map<std::string, diag::SourceRange>& seen) {
  std::string key;
  switch (set.kind) {
    case SetKind::kSuffixes:
    case SetKind::kNames: {
      if (v.kind != ast::Value::Kind::kString) {
        diags_.error("bad-set-entry", v.range, "expected a name in quotes, like \"example.com.\"");
        return;
      }
      auto name = dns_name(v.text, v.range);
      if (!name) return;
      key = *name;
      if (seen.count(key) == 0) set.names.push_back(key);
      break;
    }
    case SetKind::kNetmasks: {
      if (v.kind != ast::Value::Kind::kNetmask) {
        diags_.error("bad-set-entry", v.range, "expected a netmask, like 192.0.2.0/24 or 2001:db8::/32");
        return;
      }
      auto p = prefix(v.netmask);
      if (!p) return;
      key = p->address.to_string(false) + "/" + std::to_string(p->length);
      if (seen.count(key) == 0) set.prefixes.push_back(*p);
      break;
    }
    case SetKind::kQtypes: {
      if (v.kind != ast::Value::Kind::kIdent) {
        diags_.error("bad-set-entry", v.range, "expected a query type, like AAAA or TYPE65");
        return;
      }
      auto t = qtype(v.text, v.range);
      if (!t) return;
      key = std::to_string(*t);
      if (seen.count(key) == 0) set.qtypes.push_back(*t);
      break;
    }
  }
  auto [it, fresh] = seen.emplace(key, v.range);
  if (!fresh) {
    auto& d = diags_.warning("duplicate-entry", v.range,
                             fmt::format("duplicate entry '{}' in set '{}'", v.text, set.name));
    d.notes.push_back({it->second, "first listed here"});
  }
}

}  // namespace dnspc::sema
