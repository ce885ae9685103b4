// Lua hooks the policy names must exist: each Lua file runs once in the
// sandbox (dnspc_lua) and the functions it defines are matched to their uses.
#include <algorithm>
#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "analyzer.h"
#include "dnspc/diag/read_file.h"
#include "dnspc/lua/hook_check.h"

namespace dnspc::sema {

void Analyzer::check_lua_hooks() {
  std::map<std::string, diag::SourceRange> functions;  // name -> where defined
  std::map<std::string, std::string> others;            // non-function globals
  bool all_loaded = true;
  for (size_t i = 0; i < ast_.lua_files.size(); ++i) {
    const ast::LuaFileStmt& stmt = ast_.lua_files[i];
    const std::string& path = model_.lua_files[i];
    std::string error;
    std::optional<std::string> text = diag::read_regular_file(path, diag::kMaxLuaFileBytes, error);
    if (!text) {
      bool missing = error == std::strerror(ENOENT);
      diags_.error(missing ? "missing-file" : "bad-file", stmt.range,
                   fmt::format("cannot read Lua file '{}' (looked for {}){}{}", stmt.path, path, missing ? "" : ": ",
                               missing ? "" : error));
      all_loaded = false;
      continue;
    }
    diag::FileId file = diags_.sources().add(path, std::move(*text));
    auto result = lua::check_lua_hooks(stmt.path, diags_.sources().text(file));
    if (auto* err = std::get_if<lua::LuaLoadError>(&result)) {
      diag::SourceRange at = err->line > 0 ? diags_.sources().line_range(file, static_cast<uint32_t>(err->line))
                                           : stmt.range;
      auto& d = diags_.error("lua-load", at, fmt::format("Lua: {}", err->message));
      d.notes.push_back({stmt.range, "loaded here"});
      all_loaded = false;
      continue;
    }
    const auto& hooks = std::get<lua::LuaHooks>(result);
    for (const auto& [name, info] : hooks.functions) {
      functions[name] = info.line > 0 ? diags_.sources().line_range(file, static_cast<uint32_t>(info.line))
                                      : stmt.range;
    }
    for (const auto& [name, type] : hooks.other_globals) others[name] = type;
  }
  if (!all_loaded) return;  // unknown names would only repeat the load error
  for (const LuaUse& use : lua_uses_) {
    if (functions.count(use.function)) continue;
    if (ast_.lua_files.empty()) {
      diags_.error("no-lua-file", use.range,
                   fmt::format("Lua {} '{}' needs a Lua file; load one with 'lua \"hooks.lua\";'",
                               use.role, use.function));
      continue;
    }
    if (auto it = others.find(use.function); it != others.end()) {
      diags_.error("lua-not-function", use.range,
                   fmt::format("Lua global '{}' is a {}, not a function", use.function, it->second));
      continue;
    }
    std::vector<std::string> names;
    for (const auto& [name, range] : functions) names.push_back(name);
    std::string guess = diag::closest_match(use.function, names);
    diags_.error("unknown-lua-function", use.range,
                 guess.empty() ? fmt::format("no Lua function '{}' is defined for this {}", use.function, use.role)
                               : fmt::format("no Lua function '{}' is defined for this {}; did you mean '{}'?",
                                             use.function, use.role, guess));
  }
}

}  // namespace dnspc::sema
