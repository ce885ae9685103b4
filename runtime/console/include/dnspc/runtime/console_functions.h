// What the console's Lua can call (docs/console.md): showServers(),
// topQueries(n), reload(), ... Each runs entries of the one command table
// (commands.h) through a runner and shows their answer as text tables, or
// as the command's JSON document when the line asked for JSON. And the
// completion of a line from what exists now: the globals, then the names an
// argument takes (servers, pools, rules, dynblocks, rcodes).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dnspc::lua {
class ConsoleLua;
}

namespace dnspc::runtime::console {

// Runs one control command line; the reply may come later (reload).
using CommandRunner =
    std::function<void(std::string_view line, std::function<void(std::string reply)> reply)>;

// Gives `lua` every function of the console. `json` says whether the line
// running now wants JSON.
void add_console_functions(lua::ConsoleLua& lua, CommandRunner command, std::function<bool()> json);

// The names of the console's functions, in the order help() lists them.
std::vector<std::string> console_function_names();

// The word completion replaces: the longest tail of `before_cursor` without
// a space, tab, quote, parenthesis, brace, bracket, comma, '=' or ';'.
std::string_view completion_word(std::string_view before_cursor);

// The candidates for that word, sorted: inside a string argument of a
// function that takes a name (setServerState, clearDynBlocks,
// topResponses, showRules{filter=...}, grepq), the names that exist now;
// elsewhere the globals and the fields of a global table (`string.`).
std::vector<std::string> complete_line(const lua::ConsoleLua& lua, const CommandRunner& command,
                                       std::string_view before_cursor);

}  // namespace dnspc::runtime::console
