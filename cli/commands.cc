// The table of subcommands. A subcommand that is not built yet stays listed,
// so `--help` tells the whole shape of the tool, and refuses to run.
#include "command.h"

namespace dnspc::cli {

int run_check(std::span<char* const> args);
int run_test(std::span<char* const> args);
int run_explain(std::span<char* const> args);
int run_run(std::span<char* const> args);
int run_ctl(std::span<char* const> args);
int run_reload(std::span<char* const> args);
int run_hash_password(std::span<char* const> args);
int run_console(std::span<char* const> args);

namespace {

constexpr Command kCommands[] = {
    {"check", "check policies and print diagnostics",
     "usage: dnspc check [--format text|json] [--werror] [--stats] [--max-diagnostics N] FILE...\n"
     "Parses and checks each policy without opening any socket or starting anything.\n"
     "At most N diagnostics (default 100) are printed; the rest are counted.\n"
     "Diagnostics go to stderr as file:line:col (or one JSON document on stdout with\n"
     "--format json). Exit 0 when clean (warnings allowed), 1 on errors (or warnings\n"
     "with --werror), 2 on usage errors, 3 when a file cannot be read.\n",
     run_check, ""},
    {"test", "run a policy against query cases",
     "usage: dnspc test [--interpreter | --optimised] POLICY CASES...\n"
     "Runs each query of the case files (docs/test-cases.md) through the policy, with\n"
     "virtual time, and compares the verdicts with the expected ones. Exit 0 when all\n"
     "pass, 1 on any failure or a rejected policy, 2 on usage errors, 3 on I/O errors.\n"
     "Cases run on the policy's native code (LLVM JIT); --interpreter uses the\n"
     "reference interpreter, --optimised the C++ optimised evaluator.\n",
     run_test, ""},
    {"explain", "show the decision structure, or why a query gets its verdict",
     "usage: dnspc explain [--all] [--emit-llvm[=raw]] POLICY [QUERY]\n"
     "Without a query: the merged lookups (name index, prefix tables, qtype lookup),\n"
     "the regexes with their DFA sizes and prefilters, and each rule in evaluation\n"
     "order with the test it is filed under. With a query, written as in case files\n"
     "(docs/test-cases.md), e.g. `www.example.com AAAA from 10.0.0.1 tcp do`: every\n"
     "test the reference interpreter evaluates, its value, and the deciding rule.\n"
     "--all lists every rule and regex (default: the first 50 and 20).\n"
     "--emit-llvm prints the policy's LLVM IR after the O2 pipeline (=raw: before).\n",
     run_explain, ""},
    {"run", "run the load balancer in the foreground",
     "usage: dnspc run [--log-format text|json] [--control PATH] [--no-jit] [--watch] POLICY\n"
     "Checks the policy as `check` does (it refuses one with errors, or one that calls\n"
     "Lua, with exit 1), then serves DNS over UDP in the foreground: listeners, ACL,\n"
     "rules, pools, health checks. Logs go to stderr, as text or one JSON object a line.\n"
     "The control socket (`control` in the policy, --control, default\n"
     "/run/dnspc/control.sock) answers `dnspc ctl`. SIGTERM or SIGINT: stop reading,\n"
     "answer or time out what is in flight, exit 0. Exit 3 when a socket cannot be\n"
     "opened. The policy runs as native code (docs/jit.md); --no-jit uses the C++\n"
     "optimised evaluator instead (same verdicts). SIGHUP or `dnspc reload` reloads\n"
     "the policy without losing a query; --watch reloads it when the file changes.\n"
     "docs/runtime.md.\n",
     run_run, ""},
    {"ctl", "query or steer a running instance over its control socket",
     "usage: dnspc ctl [--control PATH] COMMAND [ARG...]\n"
     "Sends one command to a running `dnspc run` over its control socket (default\n"
     "/run/dnspc/control.sock) and prints the JSON answer: `stats`, every counter;\n"
     "`servers`, each backend's state and figures; `latency`, backend answer latency;\n"
     "`metrics`, Prometheus text; `series [S]`, per-second samples; `top LIST [N]`\n"
     "and `grep PATTERN|NETMASK [N]`, recent traffic;\n"
     "`blocks`, the dynamic blocks in force; `server NAME up|down|auto`, force a\n"
     "server's state or hand it back to its health checks; `overrides`, the forced servers; `clear-blocks [NAME]`, release\n"
     "dynamic blocks; `reload [PATH]`; `help`, every command the instance knows.\n"
     "Exit 0 on success, 1 when the instance refused the command (an unknown command\n"
     "or server, a bad argument), 3 when it cannot connect.\n",
     run_ctl, ""},
    {"reload", "reload a running instance's policy",
     "usage: dnspc reload [--control PATH] [FILE]\n"
     "Asks a running `dnspc run` (over its control socket, default\n"
     "/run/dnspc/control.sock) to reload its policy, or FILE, which then becomes its\n"
     "policy. The new policy is compiled off the packet path; state carries over by\n"
     "name (docs/runtime.md, \"Hot reload\"). Prints what changed, or the diagnostics\n"
     "(file:line:col) of a rejected policy, which leaves the running one unchanged.\n"
     "Exit 0 when the new policy runs, 1 when it was rejected, 3 when the instance\n"
     "cannot be reached.\n",
     run_reload, ""},
    {"hash-password", "hash a password or API key for the web server",
     "usage: dnspc hash-password\n"
     "Reads a password (or an API key) and prints its hash (libsodium crypto_pwhash_str,\n"
     "Argon2id), the form DNSPC_WEB_PASSWORD and DNSPC_WEB_API_KEY take: the web\n"
     "server refuses a plain secret there. From a terminal it asks twice without\n"
     "echo; otherwise it reads stdin (one trailing newline dropped):\n"
     "  export DNSPC_WEB_PASSWORD=\"$(dnspc hash-password)\"\n"
     "Exit 0 with the hash on stdout, 1 for an empty password or two that differ.\n"
     "docs/web.md.\n",
     run_hash_password, ""},
    {"console", "attach the Lua console to a running instance",
     "usage: dnspc console [--host ADDR:PORT] [--key-file FILE] [-e CODE] [--json]\n"
     "       dnspc console --make-key\n"
     "Attaches to the console of a running instance (the policy's `console ADDR:PORT;`,\n"
     "default 127.0.0.1:5199), authenticated and encrypted with the shared key from\n"
     "--key-file or DNSPC_CONSOLE_KEY. Each line is Lua 5.4: showServers(), topQueries(10),\n"
     "reload(), ...; help() lists them. Tab completes from the running instance.\n"
     "-e CODE runs one line and prints its answer on stdout; --json prints the commands'\n"
     "JSON documents instead of tables. --make-key prints a new key (32 random bytes, base64).\n"
     "Exit 0 on success, 1 when the line raised a Lua error, 2 for bad arguments or no key,\n"
     "3 when the console cannot be reached or refused the connection. docs/console.md.\n",
     run_console, ""},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

}  // namespace dnspc::cli
