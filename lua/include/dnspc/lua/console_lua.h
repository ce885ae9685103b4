// The console's Lua (docs/console.md): one sandboxed Lua 5.4 state per
// console session, on the main thread, whose globals are the functions the
// console gives it (showServers, reload, ...). Each line runs as a coroutine
// under a fresh instruction budget and the state's memory cap; an error ends
// the line with its message and leaves the state, and what earlier lines
// defined, as they were. A function may answer later (reload waits for the
// reload's outcome): the line then waits, suspended, and goes on when the
// answer comes. No Lua type crosses this header.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnspc/lua/hook_check.h"

namespace dnspc::lua {

// One argument as the console's functions see it.
struct ConsoleArg {
  enum class Kind { kNil, kBoolean, kNumber, kString, kTable, kOther } kind = Kind::kNil;
  std::string text;  // a number, a string, "true"/"false"
  // A table's string keys and their values as text, in no particular order
  // (showRules{filter="x", top=10}); other entries are left out.
  std::vector<std::pair<std::string, std::string>> fields;
};
using ConsoleArgs = std::vector<ConsoleArg>;

// What a function call gives back: text for the line's output, or an error
// raised in the calling Lua code (a pcall there can catch it).
struct ConsoleCall {
  std::string output;
  std::string error;
};
using ConsoleReturn = std::function<void(ConsoleCall)>;
// Calls `done` exactly once, at once or later from the main loop.
using ConsoleFunction = std::function<void(const ConsoleArgs&, ConsoleReturn done)>;

struct ConsoleLineResult {
  bool ok = true;
  std::string output;  // what the functions and print() wrote, then the line's values
  std::string error;   // !ok: the message
};

class ConsoleLua {
 public:
  explicit ConsoleLua(const SandboxLimits& limits);
  ~ConsoleLua();
  ConsoleLua(const ConsoleLua&) = delete;
  ConsoleLua& operator=(const ConsoleLua&) = delete;

  // A global function; before the first line.
  void add_function(const std::string& name, ConsoleFunction function);

  // Runs one line: as `return LINE` when that compiles (so `1+1` shows 2),
  // else as a chunk. `done` is called once, perhaps from inside this call.
  // One line at a time: a line given while another waits is refused.
  void run_line(std::string_view line, std::function<void(ConsoleLineResult)> done);
  bool busy() const;

  // The names of the globals now (functions the console added, builtins,
  // what lines defined), for completion.
  std::vector<std::string> global_names() const;
  // The string keys of the global table `table` (string.f...), empty when
  // it is not a table.
  std::vector<std::string> field_names(const std::string& table) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace dnspc::lua
