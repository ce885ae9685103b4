// Binding case files to a policy and running them.
#include "dnspc/cases/runner.h"

#include <fmt/core.h>

#include <algorithm>

#include "dnspc/cases/block_specs.h"
#include "dnspc/dns_names.h"
#include "dnspc/dynblock_engine.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/opt/index.h"
#include "dnspc/wire.h"

namespace dnspc::cases {

namespace {

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_d = 0;
  for (const std::string& c : candidates) {
    size_t d = edit_distance(name, c);
    if (!best || d < best_d) {
      best = &c;
      best_d = d;
    }
  }
  if (best && best_d <= std::max<size_t>(1, name.size() / 3)) return fmt::format("; did you mean '{}'?", *best);
  return "";
}

std::string action_text(const ir::Program& p, ActionKind kind, uint16_t argument) {
  auto pool = [&] { return argument < p.pools.size() ? p.pools[argument] : fmt::format("#{}", argument); };
  switch (kind) {
    case ActionKind::kPool: return "pool " + pool();
    case ActionKind::kAllow: return "allow, pool " + pool();
    case ActionKind::kDrop: return "drop";
    case ActionKind::kRefuse: return "refuse";
    case ActionKind::kRcode: return "rcode " + rcode_name(static_cast<uint8_t>(argument));
    case ActionKind::kTruncate: return "truncate";
    case ActionKind::kSpoof: return "spoof";
    case ActionKind::kLua:
      return "lua " + (argument < p.lua_functions.size() ? p.lua_functions[argument] : std::string("?"));
  }
  return "?";
}

bool is_lua_rule(const ir::Program& p, uint32_t rule) {
  return rule < p.rules.size() && p.rules[rule].action.terminal == ActionKind::kLua;
}

// "lua silence: refuse" for what a Lua action decided.
std::string lua_outcome_text(const ir::Program& p, uint32_t rule, ActionKind kind, uint16_t argument) {
  return fmt::format("{}: {}", action_text(p, ActionKind::kLua, p.rules[rule].action.argument),
                     action_text(p, kind, argument));
}

std::optional<ActionKind> action_from_word(std::string_view w) {
  if (w == "pool") return ActionKind::kPool;
  if (w == "allow") return ActionKind::kAllow;
  if (w == "drop") return ActionKind::kDrop;
  if (w == "refuse") return ActionKind::kRefuse;
  if (w == "rcode") return ActionKind::kRcode;
  if (w == "truncate") return ActionKind::kTruncate;
  if (w == "spoof") return ActionKind::kSpoof;
  if (w == "lua") return ActionKind::kLua;
  return std::nullopt;
}

// The Lua functions a rule's condition calls, in node order.

std::string describe_query(const Case& c, const QueryView& view, uint64_t now_ns) {
  char text[kMaxNameLength + 2];
  size_t len = qname_text(view, text, sizeof text);
  std::string out = fmt::format("{} {}", std::string_view(text, len), qtype_name(c.query.qtype));
  switch (c.query.qclass) {
    case 1: break;
    case 3: out += " CH"; break;
    case 4: out += " HS"; break;
    case 254: out += " NONE"; break;
    case 255: out += " ANY"; break;
    default: out += " CLASS" + std::to_string(c.query.qclass); break;
  }
  const NetAddress& src = c.query.source;
  out += " from " + src.to_string(src.port != default_source().port);
  if (c.query.transport == Transport::kTcp) out += " over tcp";
  if (now_ns != 0) out += " at " + format_time(now_ns);
  return out;
}

// An expectation naming a dynamic block: its action (and pool) must be the
// block's, and a truncate block never applies over TCP.
template <typename Error>
bool bind_block_expectation(const BlockSpec& block, const Case& c, const Expectation& e, Error&& error) {
  if (!e.action.empty()) {
    std::string wanted = e.argument.empty() ? e.action : e.action + " " + e.argument;
    std::string actual = block.action_text();
    bool same = e.argument.empty() ? actual.substr(0, actual.find(' ')) == e.action : actual == wanted;
    if (!same) {
      error(e.column, fmt::format("dynamic block '{}' is '{}', never '{}': a block has one action, so this "
                                  "expectation could not pass",
                                  e.rule, actual, wanted));
      return false;
    }
  }
  if (block.action == BlockActionKind::kTruncate && c.query.transport == Transport::kTcp) {
    error(e.column, fmt::format("dynamic block '{}' truncates, which does not apply over TCP (the rules decide "
                                "instead), so this expectation could not pass",
                                e.rule));
    return false;
  }
  return true;
}

}  // namespace

std::vector<uint8_t> encode_query(const QuerySpec& q, uint16_t id, std::string& error) {
  std::vector<uint8_t> out;
  uint8_t name[kMaxNameLength + 1];
  size_t name_len = encode_name(q.qname, name, sizeof name);
  if (name_len == 0) {
    error = fmt::format("'{}' is not a valid DNS name", q.qname);
    return {};
  }
  uint16_t flags = static_cast<uint16_t>((q.flags & ~(header_bits::kOpcodeMask | header_bits::kQR)) |
                                         ((q.opcode << header_bits::kOpcodeShift) & header_bits::kOpcodeMask));
  put16(out, id);
  put16(out, flags);
  put16(out, 1);              // QDCOUNT
  put16(out, 0);              // ANCOUNT
  put16(out, 0);              // NSCOUNT
  put16(out, q.edns ? 1 : 0);  // ARCOUNT
  out.insert(out.end(), name, name + name_len);
  put16(out, q.qtype);
  put16(out, q.qclass);
  if (q.edns) {
    size_t rdlen = 0;
    for (const EdnsOption& o : q.options) rdlen += 4 + o.data.size();
    if (out.size() + 11 + rdlen > 65535 || rdlen > 65535) {
      error = "the query would be larger than 65535 bytes";
      return {};
    }
    out.push_back(0);  // owner: the root
    put16(out, qtype::kOPT);
    put16(out, q.payload);         // CLASS: the UDP payload size
    out.push_back(0);              // extended rcode
    out.push_back(q.edns_version);
    out.push_back(q.dnssec_ok ? 0x80 : 0);
    out.push_back(0);
    put16(out, static_cast<uint16_t>(rdlen));
    for (const EdnsOption& o : q.options) {
      put16(out, o.code);
      put16(out, static_cast<uint16_t>(o.data.size()));
      out.insert(out.end(), o.data.begin(), o.data.end());
    }
  }
  return out;
}

std::string describe_verdict(const ir::Program& p, const Verdict& v) { return describe_verdict(p, {}, v); }

std::string verdict_action_text(const ir::Program& p, const Verdict& v) {
  if (is_lua_rule(p, v.rule) && v.action != ActionKind::kLua) return lua_outcome_text(p, v.rule, v.action, v.argument);
  return action_text(p, v.action, v.argument);
}

std::string describe_verdict(const ir::Program& p, const std::vector<BlockSpec>& blocks, const Verdict& v) {
  if (v.rule >= p.rules.size()) {
    const size_t block = v.rule - p.rules.size();
    if (block < blocks.size()) return fmt::format("block '{}' ({})", blocks[block].name, blocks[block].action_text());
    return fmt::format("no rule (verdict #{}, {})", v.rule, action_text(p, v.action, v.argument));
  }
  if (is_lua_rule(p, v.rule) && v.action != ActionKind::kLua) {
    return fmt::format("rule '{}' ({})", p.rules[v.rule].name, lua_outcome_text(p, v.rule, v.action, v.argument));
  }
  return fmt::format("rule '{}' ({})", p.rules[v.rule].name, action_text(p, v.action, v.argument));
}

BindResult bind_cases(const CaseFile& file, const pipeline::CompiledPolicy& policy) {
  BindResult out;
  out.path = file.path;
  const ir::Program& p = policy.reference;
  std::vector<std::string> rule_names;
  for (const ir::Rule& r : p.rules) rule_names.push_back(r.name);
  NetAddress listen;
  if (!policy.model.listens.empty()) {
    listen = policy.model.listens.front().address;
  } else {
    listen = *NetAddress::parse("127.0.0.1:53");
  }

  out.blocks = block_specs(policy.model);
  std::vector<std::string> block_names;
  for (const BlockSpec& b : out.blocks) block_names.push_back(b.name);
  std::vector<std::string> all_names = rule_names;
  all_names.insert(all_names.end(), block_names.begin(), block_names.end());

  for (const Case& c : file.cases) {
    auto error = [&](size_t column, std::string message) {
      out.errors.push_back({file.path, c.line, column, std::move(message)});
    };
    BoundCase b;
    b.source = &c;
    b.destination = c.query.destination.value_or(listen);
    std::string encode_error;
    b.packet = encode_query(c.query, c.query.id.value_or(static_cast<uint16_t>(c.line)), encode_error);
    if (b.packet.empty()) {
      error(0, encode_error);
      continue;
    }
    bool ok = true;
    for (const Expectation& e : c.expect) {
      auto it = std::find(rule_names.begin(), rule_names.end(), e.rule);
      if (it == rule_names.end()) {
        auto block = std::find(block_names.begin(), block_names.end(), e.rule);
        if (block == block_names.end()) {
          error(e.column, fmt::format("the policy has no rule '{}'{}", e.rule, did_you_mean(e.rule, all_names)));
          ok = false;
          continue;
        }
        const size_t index = static_cast<size_t>(block - block_names.begin());
        if (!bind_block_expectation(out.blocks[index], c, e, error)) {
          ok = false;
          continue;
        }
        b.expect.push_back({static_cast<uint32_t>(p.rules.size() + index), e.count, std::nullopt, std::nullopt});
        continue;
      }
      uint32_t rule = static_cast<uint32_t>(it - rule_names.begin());
      const ir::RuleAction& a = p.rules[rule].action;
      std::string actual = action_text(p, a.terminal, a.argument);
      if (e.action == "no_recurse") {
        error(e.column, fmt::format("'no_recurse' is the action of a dynamic block, and '{}' is a rule", e.rule));
        ok = false;
        continue;
      }
      BoundExpectation bound_expectation{rule, e.count, std::nullopt, std::nullopt};
      if (a.terminal == ActionKind::kLua && !e.action.empty() && e.action != "lua") {
        // What the Lua function is expected to decide.
        auto kind = action_from_word(e.action);
        if (!kind) {
          error(e.column, fmt::format("'{}' is no verdict a Lua action gives (pool, allow, drop, refuse, rcode, "
                                      "truncate, spoof)",
                                      e.action));
          ok = false;
          continue;
        }
        bound_expectation.lua_kind = *kind;
        if (!e.argument.empty() && *kind == ActionKind::kPool) {
          auto pool = std::find(p.pools.begin(), p.pools.end(), e.argument);
          if (pool == p.pools.end()) {
            error(e.column, fmt::format("the policy has no pool '{}'{}", e.argument, did_you_mean(e.argument, p.pools)));
            ok = false;
            continue;
          }
          bound_expectation.lua_argument = static_cast<uint16_t>(pool - p.pools.begin());
        } else if (!e.argument.empty() && *kind == ActionKind::kRcode) {
          auto rc = rcode_from_name(e.argument);
          if (!rc) {
            error(e.column, fmt::format("'{}' is no rcode", e.argument));
            ok = false;
            continue;
          }
          bound_expectation.lua_argument = *rc;
        }
        b.expect.push_back(bound_expectation);
        continue;
      }
      if (!e.action.empty()) {
        auto kind = action_from_word(e.action);
        bool same = kind == a.terminal;
        if (same && !e.argument.empty()) {
          switch (a.terminal) {
            case ActionKind::kPool:
            case ActionKind::kAllow:
              same = a.argument < p.pools.size() && p.pools[a.argument] == e.argument;
              break;
            case ActionKind::kRcode: same = rcode_from_name(e.argument) == a.argument; break;
            case ActionKind::kLua:
              same = a.argument < p.lua_functions.size() && p.lua_functions[a.argument] == e.argument;
              break;
            default: break;
          }
        }
        if (!same) {
          std::string wanted = e.argument.empty() ? e.action : e.action + " " + e.argument;
          error(e.column, fmt::format("rule '{}' is '{}', never '{}': a rule has one action, so this "
                                      "expectation could not pass",
                                      e.rule, actual, wanted));
          ok = false;
          continue;
        }
      }
      b.expect.push_back(bound_expectation);
    }
    if (ok) out.cases.push_back(std::move(b));
  }
  return out;
}

RunResult run_cases(const pipeline::CompiledPolicy& policy, const BindResult& bound, Evaluator evaluator) {
  Decider d;
  if (evaluator == Evaluator::kInterpreter) {
    d.program = &policy.reference;
    d.decide = [&policy](const QueryView& v, DecisionState& s) { return interp::interpret(policy.reference, v, s); };
  } else {
    d.program = &policy.optimized.program;
    d.decide = [&policy](const QueryView& v, DecisionState& s) { return opt::evaluate(policy.optimized, v, s); };
  }
  return run_cases(d, bound);
}

RunResult run_cases(const Decider& decider, const BindResult& bound) {
  RunResult result;
  const ir::Program& program = *decider.program;
  const uint32_t rule_count = static_cast<uint32_t>(program.rules.size());
  ir::ProgramState state(program);
  // Dynamic blocks: one worker (this thread), evaluated at every whole
  // virtual second the clock passes, before the queries at that instant.
  constexpr uint64_t kSecond = 1'000'000'000ull;
  std::unique_ptr<BlockEngine> blocks;
  if (!bound.blocks.empty()) blocks = std::make_unique<BlockEngine>(bound.blocks, BlockEngineOptions{1, kCaseBlockCapacity});
  uint64_t next_evaluation_s = 1;
  auto expected_verdict = [&](uint32_t index, Transport transport) {
    if (index < rule_count) return program.verdict_of(index);
    return block_verdict(bound.blocks[index - rule_count], index, transport).value_or(Verdict{});
  };
  auto matches = [&](const BoundExpectation& e, const Verdict& v, Transport transport) {
    if (!is_lua_rule(program, e.rule)) return v == expected_verdict(e.rule, transport);
    if (v.rule != e.rule) return false;
    if (!e.lua_kind) return true;
    return v.action == *e.lua_kind && (!e.lua_argument || v.argument == *e.lua_argument);
  };
  auto describe_expected = [&](const BoundExpectation& e, Transport transport) {
    if (e.lua_kind) {
      const std::string outcome = e.lua_argument ? action_text(program, *e.lua_kind, *e.lua_argument)
                                                 : std::string(action_kind_name(*e.lua_kind));
      return fmt::format("rule '{}' ({}: {})", program.rules[e.rule].name,
                         action_text(program, ActionKind::kLua, program.rules[e.rule].action.argument), outcome);
    }
    return describe_verdict(program, bound.blocks, expected_verdict(e.rule, transport));
  };
  QueryView view;
  // The rules decide; a Lua action that gives no verdict lets the next rules decide.
  auto decide = [&](DecisionState& st) {
    st.first_rule = 0;
    for (;;) {
      const Verdict v = decider.decide(view, st);
      if (v.action != ActionKind::kLua || v.rule >= rule_count || !decider.lua_action) return v;
      if (std::optional<Verdict> decided = decider.lua_action(v, view, st)) return *decided;
      st.first_rule = v.rule + 1;
    }
  };
  if (decider.scratch_words) state.reserve_scratch(decider.scratch_words);
  if (decider.prepare) decider.prepare(state.state());

  for (const BoundCase& b : bound.cases) {
    const Case& c = *b.source;
    // A run of repetitions that failed the same way, reported as one line.
    struct Run {
      uint32_t first = 0, last = 0;
      const BoundExpectation* expected = nullptr;
      Verdict got;
      std::string query;
    };
    std::vector<Run> runs;
    std::string rejected;
    uint32_t rep = 0;
    for (const BoundExpectation& e : b.expect) {
      for (uint32_t k = 0; k < e.count; ++k, ++rep) {
        uint64_t now = c.time_of(rep);
        ParseError pe = parse_query(b.packet.data(), b.packet.size(), c.query.transport, view);
        if (pe != ParseError::kOk) {
          rejected = parse_error_name(pe);
          break;
        }
        view.source = c.query.source;
        view.destination = b.destination;
        Verdict v;
        if (blocks) {
          // Idle seconds change nothing: skip them (a case may jump a year).
          if (blocks->idle()) next_evaluation_s = std::max(next_evaluation_s, now / kSecond + 1);
          for (; next_evaluation_s * kSecond <= now; ++next_evaluation_s) blocks->evaluate(next_evaluation_s * kSecond);
          BlockRecorder& recorder = blocks->recorder(0);
          recorder.begin_batch();
          recorder.record_query(view.source, view.qtype);
          std::optional<Verdict> blocked;
          if (const ActiveBlock* hit = recorder.lookup(view.source)) {
            blocked = block_verdict(bound.blocks[hit->block], rule_count + hit->block, view.transport);
            if (blocked) recorder.count_hit(*hit);
          }
          v = blocked ? *blocked : decide(state.for_query(now));
          if (v.action == ActionKind::kPool || v.action == ActionKind::kAllow) {
            recorder.record_response(view.source, c.query.answer_rcode,
                                     c.query.answer_bytes.value_or(static_cast<uint32_t>(b.packet.size())));
          }
          recorder.end_batch();
        } else {
          v = decide(state.for_query(now));
        }
        ++result.queries;
        if (matches(e, v, c.query.transport)) continue;
        if (!runs.empty() && runs.back().last + 1 == rep && runs.back().expected == &e &&
            runs.back().got == v) {
          runs.back().last = rep;
        } else {
          runs.push_back({rep, rep, &e, v, describe_query(c, view, now)});
        }
      }
      if (!rejected.empty()) break;
    }
    if (!rejected.empty()) {
      ++result.failed;
      result.failures.push_back(fmt::format("{}:{}: the codec rejected the query ({}); nothing was decided",
                                            bound.path, c.line,
                                            rejected));
      continue;
    }
    if (runs.empty()) {
      ++result.passed;
      continue;
    }
    ++result.failed;
    for (const Run& r : runs) {
      std::string which;
      if (c.repeat > 1) {
        which = r.first == r.last ? fmt::format("repetition {} of {}: ", r.first + 1, c.repeat)
                                  : fmt::format("repetitions {}-{} of {}: ", r.first + 1, r.last + 1, c.repeat);
      }
      result.failures.push_back(
          fmt::format("{}:{}: {}expected {}, got {} for {}", bound.path, c.line, which,
                      describe_expected(*r.expected, c.query.transport),
                      describe_verdict(program, bound.blocks, r.got), r.query));
    }
  }
  return result;
}

}  // namespace dnspc::cases
