// The control commands: one table of name, argument synopsis, help text and
// handler. The control socket dispatches every line through it; the console
// and the web server will call the same entries, so a handler sees the
// parsed arguments and what the main thread owns (CommandContext), never a
// socket, and answers one JSON document through `reply` (once; a reload
// answers later, on the main loop).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dnspc::runtime {

struct ActivePolicy;
class Registry;
class Reloader;
class SeriesSampler;
struct MetricsContext;

// What the handlers act on; all of it belongs to the main thread. A null
// part makes the commands that need it answer an error (the unit tests run
// the table with none).
struct CommandContext {
  Registry* registry = nullptr;
  const std::atomic<const ActivePolicy*>* current = nullptr;
  MetricsContext* stats = nullptr;
  Reloader* reloader = nullptr;
  const SeriesSampler* series = nullptr;
  std::chrono::steady_clock::time_point started{};
};

using CommandReply = std::function<void(std::string json)>;
using CommandArgs = std::vector<std::string>;

struct ControlCommand {
  std::string_view name;
  std::string_view args;  // synopsis: "NAME up|down|auto", "[PATH]", ""
  std::string_view help;  // one sentence
  unsigned min_args = 0, max_args = 0;
  // The last argument is the rest of the line as typed (a path may hold spaces).
  bool rest_of_line = false;
  void (*run)(CommandContext& c, const CommandArgs& args, const CommandReply& reply) = nullptr;
};

// The table, in the order `help` lists it.
std::span<const ControlCommand> control_commands();

// Splits `line` into the command and its arguments, checks their number and
// runs the entry; an unknown command or a wrong number of arguments gets an
// error document ({"error": ..., "command": ..., "commands"|"usage": ...}).
void dispatch_command(CommandContext& c, std::string_view line, const CommandReply& reply);

// `help`: {"commands": [{"name", "args", "help"}, ...]}.
std::string commands_json();

}  // namespace dnspc::runtime
