// Global statements: options, listeners, ACL, console/web/control, Lua files.
#include <algorithm>
#include <fmt/core.h>

#include <functional>
#include <optional>
#include <set>

#include "analyzer.h"

namespace dnspc::sema {

namespace {

using ast::Value;

struct OptionSpec {
  const char* name;
  // Checks the value and stores it; returns false after reporting an error.
  std::function<bool(Analyzer&, const Value&, Options&)> apply;
};

auto integer_option(unsigned Options::*field, int64_t lo, int64_t hi) {
  return [=](Analyzer& a, const Value& v, Options& o) {
    if (!a.in_range(v, lo, hi, "this option")) return false;
    o.*field = static_cast<unsigned>(v.integer);
    return true;
  };
}

auto duration_option(uint64_t Options::*field, uint64_t lo_ms, uint64_t hi_ms,
                     diag::Diagnostics& diags) {
  return [=, &diags](Analyzer&, const Value& v, Options& o) {
    if (v.invalid) return false;
    if (v.kind != Value::Kind::kDuration) {
      diags.error("bad-value", v.range, "expected a duration like 500ms, 2s or 5m");
      return false;
    }
    if (v.duration_ms < lo_ms || v.duration_ms > hi_ms) {
      diags.error("out-of-range", v.range,
                  fmt::format("duration out of range; use {}ms to {}ms", lo_ms, hi_ms));
      return false;
    }
    o.*field = v.duration_ms;
    return true;
  };
}

template <typename E>
auto enum_option(E Options::*field, std::vector<std::pair<const char*, E>> choices,
                 diag::Diagnostics& diags) {
  return [=, &diags](Analyzer&, const Value& v, Options& o) {
    for (auto& [text, value] : choices) {
      if (v.kind == Value::Kind::kIdent && v.text == text) {
        o.*field = value;
        return true;
      }
    }
    std::string list;
    for (auto& c : choices) list += (list.empty() ? "" : " or ") + std::string(c.first);
    diags.error("bad-value", v.range, fmt::format("expected {}", list));
    return false;
  };
}

// "127.0.0.0/8, ::1/128": netmasks in a string, since a policy value is one
// token. Each entry is checked as a netmask written in the policy would be
// (host bits warn); a bad one is reported at its place inside the string
// when the string has no escapes (so offsets in the text are offsets in the
// file), else at the whole string.
std::optional<std::vector<Prefix>> netmask_list(Analyzer& a, const Value& v, diag::Diagnostics& d,
                                                const char* option = "web_acl") {
  const bool exact = v.range.end - v.range.begin == v.text.size() + 2;
  auto range_of = [&](size_t begin, size_t end) {
    if (!exact) return v.range;
    diag::SourceRange r = v.range;
    r.begin = v.range.begin + 1 + static_cast<uint32_t>(begin);
    r.end = v.range.begin + 1 + static_cast<uint32_t>(end);
    return r;
  };
  std::vector<Prefix> out;
  bool ok = true;
  size_t pos = 0;
  while (pos <= v.text.size()) {
    size_t comma = v.text.find(',', pos);
    if (comma == std::string::npos) comma = v.text.size();
    size_t begin = pos, end = comma;
    while (begin < end && (v.text[begin] == ' ' || v.text[begin] == '\t')) ++begin;
    while (end > begin && (v.text[end - 1] == ' ' || v.text[end - 1] == '\t')) --end;
    pos = comma + 1;
    const std::string entry = v.text.substr(begin, end - begin);
    if (entry.empty()) {
      if (comma == v.text.size() && !out.empty()) break;  // a trailing comma
      d.error("bad-value", range_of(begin, end),
              fmt::format("an empty entry in {}; write netmasks separated by commas, like \"127.0.0.0/8, ::1/128\"",
                          option));
      ok = false;
      continue;
    }
    const size_t slash = entry.find('/');
    auto address = NetAddress::parse(entry.substr(0, slash));
    if (!address || address->port != 0) {
      d.error("bad-address", range_of(begin, end),
              fmt::format("'{}' in {} is not an address or netmask; write them like 10.0.0.0/8 or ::1/128",
                          entry, option));
      ok = false;
      continue;
    }
    ast::Netmask n;
    n.address = *address;
    n.range = range_of(begin, end);
    if (slash != std::string::npos) {
      const std::string length = entry.substr(slash + 1);
      const unsigned max = address->is_v6() ? 128 : 32;
      if (length.empty() || length.size() > 3 || length.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(length) > max) {
        d.error("bad-prefix", range_of(begin + slash + 1, end),
                fmt::format("the prefix length of '{}' in {} must be 0 to {}", entry, option, max));
        ok = false;
        continue;
      }
      n.prefix = static_cast<int>(std::stoul(length));
    }
    if (auto p = a.prefix(n)) out.push_back(*p);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::vector<OptionSpec> option_specs(diag::Diagnostics& d) {
  return {
      {"workers", integer_option(&Options::workers, 1, 64)},
      {"udp_timeout", duration_option(&Options::udp_timeout_ms, 10, 60'000, d)},
      {"timeout_answer", enum_option<FailureAnswer>(&Options::timeout_answer,
                                                    {{"drop", FailureAnswer::kDrop},
                                                     {"servfail", FailureAnswer::kServfail}},
                                                    d)},
      {"acl_action", enum_option<AclAction>(&Options::acl_action,
                                            {{"refuse", AclAction::kRefuse}, {"drop", AclAction::kDrop}},
                                            d)},
      {"max_outstanding", integer_option(&Options::max_outstanding, 1, 65'535)},
      {"sockets_per_backend", integer_option(&Options::sockets_per_backend, 1, 64)},
      {"default_pool",
       [&d](Analyzer&, const Value& v, Options& o) {
         if (v.kind != Value::Kind::kIdent) {
           d.error("bad-value", v.range, "expected a pool name");
           return false;
         }
         o.default_pool = v.text;
         return true;
       }},
      {"regex_state_budget", integer_option(&Options::regex_state_budget, 16, 1'000'000)},
      {"source_table_size", integer_option(&Options::source_table_size, 16, 100'000'000)},
      {"max_held_answers", integer_option(&Options::max_held_answers, 0, 1'000'000)},
      {"tcp_max_connections", integer_option(&Options::tcp_max_connections, 1, 1'000'000)},
      {"tcp_max_connections_per_client",
       integer_option(&Options::tcp_max_connections_per_client, 1, 1'000'000)},
      {"tcp_max_queries_per_connection",
       integer_option(&Options::tcp_max_queries_per_connection, 1, 1'000'000'000)},
      {"tcp_idle_timeout", duration_option(&Options::tcp_idle_timeout_ms, 100, 3'600'000, d)},
      {"tcp_max_duration", duration_option(&Options::tcp_max_duration_ms, 100, 86'400'000, d)},
      {"tcp_max_buffered_bytes", integer_option(&Options::tcp_max_buffered_bytes, 512, 16'777'216)},
      {"tcp_client_max_in_flight", integer_option(&Options::tcp_client_max_in_flight, 1, 65'535)},
      {"ring_entries", integer_option(&Options::ring_entries, 0, 1'000'000)},
      {"lua_instructions", integer_option(&Options::lua_instructions, 1'000, 100'000'000)},
      {"lua_memory", integer_option(&Options::lua_memory_mb, 1, 1'024)},
      {"tcp_connect_timeout", duration_option(&Options::tcp_connect_timeout_ms, 10, 60'000, d)},
      {"tcp_backend_timeout", duration_option(&Options::tcp_backend_timeout_ms, 10, 600'000, d)},
      {"tcp_backend_connections", integer_option(&Options::tcp_backend_connections, 1, 1'000)},
      {"tcp_backend_max_in_flight", integer_option(&Options::tcp_backend_max_in_flight, 1, 1'024)},
      {"web_acl",
       [&d](Analyzer& a, const Value& v, Options& o) {
         if (v.invalid) return false;
         if (v.kind != Value::Kind::kString) {
           d.error("bad-value", v.range,
                   "web_acl takes netmasks in a string, like \"127.0.0.0/8, ::1/128\"");
           return false;
         }
         auto list = netmask_list(a, v, d);
         if (!list) return false;
         o.web_acl = std::move(*list);
         return true;
       }},
      {"web_writes", enum_option<bool>(&Options::web_writes, {{"off", false}, {"on", true}}, d)},
      {"console_acl",
       [&d](Analyzer& a, const Value& v, Options& o) {
         if (v.invalid) return false;
         if (v.kind != Value::Kind::kString) {
           d.error("bad-value", v.range,
                   "console_acl takes netmasks in a string, like \"127.0.0.0/8, ::1/128\"");
           return false;
         }
         auto list = netmask_list(a, v, d, "console_acl");
         if (!list) return false;
         o.console_acl = std::move(*list);
         return true;
       }},
      {"console_key_file",
       [&d](Analyzer& a, const Value& v, Options& o) {
         if (v.invalid) return false;
         if (v.kind != Value::Kind::kString || v.text.empty()) {
           d.error("bad-value", v.range,
                   "console_key_file takes the key file's path in a string, like \"/etc/dnspc/console.key\"");
           return false;
         }
         o.console_key_file = a.resolve_path(v.text);  // relative to the policy file, as set files
         return true;
       }},
  };
}

}  // namespace

void Analyzer::analyze_options() {
  auto specs = option_specs(diags_);
  std::map<std::string, diag::SourceRange> seen;
  for (const ast::OptionStmt& stmt : ast_.options) {
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const OptionSpec& s) { return stmt.name.text == s.name; });
    if (spec == specs.end()) {
      std::vector<std::string> names;
      for (auto& s : specs) names.push_back(s.name);
      unknown("unknown-option", "option", stmt.name, names);
      continue;
    }
    auto [it, fresh] = seen.emplace(stmt.name.text, stmt.name.range);
    if (!fresh) {
      auto& d = diags_.error("duplicate-option", stmt.name.range,
                             fmt::format("option '{}' is set twice", stmt.name.text));
      d.notes.push_back({it->second, "first set here"});
      continue;
    }
    spec->apply(*this, stmt.value, model_.options);
  }
  if (model_.options.web_acl.empty() && !seen.count("web_acl")) {
    Value v;
    v.kind = Value::Kind::kString;
    v.text = kDefaultWebAcl;
    model_.options.web_acl = *netmask_list(*this, v, diags_);
  }
  if (model_.options.console_acl.empty() && !seen.count("console_acl")) {
    Value v;
    v.kind = Value::Kind::kString;
    v.text = kDefaultConsoleAcl;
    model_.options.console_acl = *netmask_list(*this, v, diags_, "console_acl");
  }
}

void Analyzer::analyze_endpoints() {
  std::set<std::string> listen_seen;
  for (const ast::ListenStmt& stmt : ast_.listens) {
    for (const ast::Endpoint& e : stmt.endpoints) {
      if (e.address.family == AddressFamily::kNone) continue;
      Endpoint out{e.address, e.range};
      if (!e.has_port) out.address.port = 53;
      if (!listen_seen.insert(out.address.to_string()).second) {
        diags_.error("duplicate-listen", e.range,
                     fmt::format("already listening on {}", out.address.to_string()));
        continue;
      }
      model_.listens.push_back(out);
    }
  }
  if (ast_.listens.empty()) {
    model_.listens.push_back({*NetAddress::parse("127.0.0.1:53"), {}});
  }

  if (ast_.acls.empty()) {
    // Loopback and private ranges, as dnsdist's default ACL.
    for (const char* text : {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                             "100.64.0.0/10", "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10"}) {
      std::string s(text);
      size_t slash = s.find('/');
      Prefix p;
      p.address = *NetAddress::parse(s.substr(0, slash));
      p.length = static_cast<uint8_t>(std::stoi(s.substr(slash + 1)));
      model_.acl.push_back(p);
    }
  }
  for (const ast::AclStmt& stmt : ast_.acls) {
    for (const ast::Netmask& n : stmt.netmasks) {
      if (auto p = prefix(n)) model_.acl.push_back(*p);
    }
  }

  for (const ast::EndpointStmt& stmt : ast_.endpoints) {
    std::optional<Endpoint>* slot = nullptr;
    const char* what = "control";
    if (stmt.kind == ast::EndpointStmt::Kind::kConsole) {
      slot = &model_.console;
      what = "console";
    } else if (stmt.kind == ast::EndpointStmt::Kind::kWeb) {
      slot = &model_.web;
      what = "web";
    }
    if (slot) {
      if (*slot) {
        auto& d = diags_.error("duplicate-endpoint", stmt.range, fmt::format("{} is set twice", what));
        d.notes.push_back({(*slot)->range, "first set here"});
        continue;
      }
      if (!stmt.endpoint.has_port) {
        diags_.error("missing-port", stmt.endpoint.range,
                     fmt::format("the {} endpoint needs a port, like 127.0.0.1:{}", what,
                                 stmt.kind == ast::EndpointStmt::Kind::kWeb ? 8083 : 5199));
        continue;
      }
      *slot = Endpoint{stmt.endpoint.address, stmt.endpoint.range};
    } else {
      if (!model_.control_path.empty()) {
        diags_.error("duplicate-endpoint", stmt.range, "control is set twice");
        continue;
      }
      if (stmt.path.empty() || stmt.path.size() > 100) {
        diags_.error("bad-path", stmt.range, "the control socket path must be 1 to 100 characters");
        continue;
      }
      model_.control_path = stmt.path;
    }
  }

  for (const ast::LuaFileStmt& stmt : ast_.lua_files) {
    model_.lua_files.push_back(resolve_path(stmt.path));
  }
}

}  // namespace dnspc::sema
