#include "dnspc/kernel/prefix.h"

#include <fmt/core.h>

#include <algorithm>

#include "dnspc/ir/describe.h"

namespace dnspc::kernel {

namespace {

using ir::Node;
using ir::Program;
using ir::TestKind;

// "4,096".
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "33rd", "65th", "4,097th".
std::string ordinal(uint64_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return grouped(n) + suffix;
}

// Why the kernel cannot evaluate `test`; empty when it can.
std::string test_problem(const Program& p, uint32_t test) {
  const std::string written = "`" + ir::describe_test(p, test) + "`";
  switch (p.tests[test].kind) {
    case TestKind::kTrue:
    case TestKind::kFalse:
    case TestKind::kName:
    case TestKind::kRegex:
    case TestKind::kLabelCount:
    case TestKind::kNameLength:
    case TestKind::kQtype:
    case TestKind::kQclass:
    case TestKind::kOpcode:
    case TestKind::kHeaderBit:
    case TestKind::kEdns:
    case TestKind::kEdnsDo:
    case TestKind::kEdnsVersion:
    case TestKind::kEdnsPayload:
    case TestKind::kSource:
    case TestKind::kDestination:
    case TestKind::kTransport:
    case TestKind::kSize:
    case TestKind::kQps:
    case TestKind::kProbability:
    // The guard before a later Lua action: the kernel always decides from
    // rule 0, where every guard holds (ir/lower.h); resuming past a failed
    // Lua action is user space's.
    case TestKind::kFromRule:
      return {};
    case TestKind::kEdnsOption:
      return written + " needs the OPT record's options, which the kernel does not parse";
    case TestKind::kTagged:
      return written + " reads tags, which only user space keeps";
    case TestKind::kLua:
      return written + " runs Lua, which the kernel cannot";
    case TestKind::kResponseRcode:
    case TestKind::kAnswerCount:
    case TestKind::kLatency:
    case TestKind::kResponseSize:
      return written + " reads the backend's answer, which the kernel never sees";
  }
  return written + " is not known to the kernel fast path";
}

// Why the kernel cannot take rule `r`'s action, and where it was written;
// empty when it can.
std::string action_problem(const Program& p, const ir::Rule& r, diag::SourceRange& where) {
  const ir::RuleAction& a = r.action;
  if (a.modifiers != 0 || a.tag_bits != 0 || a.delay_ms != 0) {
    static const std::pair<uint8_t, const char*> names[] = {
        {modifier_bits::kTag, "tag"},      {modifier_bits::kLog, "log"},
        {modifier_bits::kDelay, "delay"},  {modifier_bits::kNoRecurse, "no_recurse"},
        {modifier_bits::kSetCd, "set_cd"}, {modifier_bits::kNoCache, "no_cache"}};
    std::vector<std::string> present;
    for (auto& [bit, name] : names) {
      if (a.modifiers & bit) present.push_back(fmt::format("`{}`", name));
    }
    where = a.modifier_range.valid() ? a.modifier_range : a.range.valid() ? a.range : r.range;
    if (present.empty()) return "the rule's modifiers need user space";
    std::string list = present[0];
    for (size_t i = 1; i < present.size(); ++i)
      list += (i + 1 == present.size() ? " and " : ", ") + present[i];
    return fmt::format("the {} modifier{} need{} user space", list, present.size() == 1 ? "" : "s",
                       present.size() == 1 ? "s" : "");
  }
  where = a.range.valid() ? a.range : r.range;
  const std::string written =
      "`" + ir::describe_action(p, static_cast<uint32_t>(&r - p.rules.data())) + "`";
  switch (a.terminal) {
    case ActionKind::kDrop:
    case ActionKind::kRefuse:
    case ActionKind::kTruncate:
      return {};
    case ActionKind::kRcode:
      if (a.argument <= 15) return {};
      return fmt::format("rcode {} needs an extended rcode, which the kernel does not write",
                         a.argument);
    case ActionKind::kPool:
    case ActionKind::kAllow:
      return written + " forwards to a backend, which only user space does";
    case ActionKind::kSpoof:
      return written +
             " builds its answer in user space; the kernel answers only with drop, refuse, rcode "
             "and truncate";
    case ActionKind::kLua:
      return written + " runs Lua, which the kernel cannot";
  }
  return written + " is not a kernel action";
}

// The leaf tests of a condition, in evaluation order (with repeats). An
// explicit stack: a generated policy's conditions may be wide and deep.
void leaves(const Program& p, uint32_t root, std::vector<uint32_t>& out) {
  out.clear();
  std::vector<uint32_t> stack{root};
  while (!stack.empty()) {
    const Node& n = p.nodes[stack.back()];
    stack.pop_back();
    if (n.op == Node::Op::kTest) {
      out.push_back(n.test);
      continue;
    }
    for (size_t i = n.children.size(); i-- > 0;) stack.push_back(n.children[i]);
  }
}

struct Fold {
  RuleFold kind = RuleFold::kGeneral;
  uint32_t test = kNoTest, qtype_test = kNoTest;
};

// The rule's fold: its condition, with the top-level tests that always hold
// in the kernel left out, is one name, source or destination test, or a
// qtype test and a name test. Those tests: the `from rule` guard (the kernel
// decides from rule 0) and `udp` (the kernel sees only UDP; lowering puts
// it before every truncate rule's condition).
Fold fold_of(const Program& p, uint32_t root) {
  // An and/or of one child is that child (merge_set_tests leaves `a or b`
  // over names as an or of their union).
  auto unwrap = [&](uint32_t node) {
    while (p.nodes[node].op != Node::Op::kTest && p.nodes[node].op != Node::Op::kNot &&
           p.nodes[node].children.size() == 1) {
      node = p.nodes[node].children[0];
    }
    return node;
  };
  root = unwrap(root);
  std::vector<uint32_t> parts;
  const Node& r = p.nodes[root];
  auto is_guard = [&](uint32_t node) {
    const Node& n = p.nodes[node];
    if (n.op != Node::Op::kTest) return false;
    const ir::Test& t = p.tests[n.test];
    return t.kind == TestKind::kFromRule || (t.kind == TestKind::kTransport && t.value == 0);
  };
  if (r.op == Node::Op::kAnd) {
    for (uint32_t c : r.children) {
      if (!is_guard(c)) parts.push_back(unwrap(c));
    }
  } else {
    parts.push_back(root);
  }
  auto test_of = [&](uint32_t node, TestKind kind) {
    const Node& n = p.nodes[node];
    return n.op == Node::Op::kTest && p.tests[n.test].kind == kind ? n.test : kNoTest;
  };
  if (parts.size() == 1) {
    for (auto [kind, fold] : {std::pair{TestKind::kName, RuleFold::kName},
                              std::pair{TestKind::kSource, RuleFold::kSource},
                              std::pair{TestKind::kDestination, RuleFold::kDestination}}) {
      if (uint32_t t = test_of(parts[0], kind); t != kNoTest) return {fold, t, kNoTest};
    }
    // A regex every match of which lies under one name: its DFA runs only
    // for names under it, found by the same name lookup.
    if (uint32_t t = test_of(parts[0], TestKind::kRegex); t != kNoTest && !p.regexes[p.tests[t].table].dns_suffix.empty()) {
      return {RuleFold::kRegex, t, kNoTest};
    }
  }
  if (parts.size() == 2) {
    for (int first = 0; first < 2; ++first) {
      uint32_t q = test_of(parts[first], TestKind::kQtype);
      uint32_t n = test_of(parts[1 - first], TestKind::kName);
      if (q != kNoTest && n != kNoTest) return {RuleFold::kQtypeName, n, q};
    }
  }
  return {};
}

}  // namespace

const char* rule_fold_name(RuleFold fold) {
  switch (fold) {
    case RuleFold::kGeneral:
      return "general";
    case RuleFold::kName:
      return "name";
    case RuleFold::kSource:
      return "source";
    case RuleFold::kDestination:
      return "destination";
    case RuleFold::kQtypeName:
      return "qtype-and-name";
    case RuleFold::kRegex:
      return "regex";
  }
  return "general";
}

uint32_t KernelPrefix::folded(RuleFold fold) const {
  return static_cast<uint32_t>(std::count(folds.begin(), folds.end(), fold));
}

KernelPrefix find_kernel_prefix(const Program& program, const KernelLimits& limits) {
  KernelPrefix out;
  out.test_bit.assign(program.tests.size(), -1);
  if (program.responses) {
    if (!program.rules.empty()) {
      out.end_reason = "response rules act on the backend's answers, which the kernel never sees";
      out.end_range = program.rules[0].range;
    }
    return out;
  }
  std::vector<bool> regex_counted(program.tests.size(), false);
  uint32_t general_rules = 0;
  std::vector<uint32_t> tests;
  for (uint32_t i = 0; i < program.rules.size(); ++i) {
    const ir::Rule& rule = program.rules[i];
    auto stop = [&](std::string reason, diag::SourceRange where) {
      out.end_reason = std::move(reason);
      out.end_range = where.valid() ? where : rule.range;
    };
    diag::SourceRange where;
    if (std::string problem = action_problem(program, rule, where); !problem.empty()) {
      stop(std::move(problem), where);
      break;
    }
    leaves(program, rule.root, tests);
    std::string problem;
    for (uint32_t t : tests) {
      problem = test_problem(program, t);
      if (!problem.empty()) {
        stop(problem, program.tests[t].range);
        break;
      }
    }
    if (!problem.empty()) break;

    Fold fold = fold_of(program, rule.root);
    if (fold.kind == RuleFold::kGeneral) {
      // What this rule would add to each budget, committed only if all fit.
      if (general_rules + 1 > limits.general_rules) {
        stop(
            fmt::format("a {} rule that is not a plain match exceeds the kernel's budget of {}",
                        ordinal(uint64_t{limits.general_rules} + 1), grouped(limits.general_rules)),
            rule.range);
        break;
      }
      uint32_t references = 0;
      std::vector<uint32_t> new_names, new_sources, new_destinations, new_regexes;
      for (uint32_t t : tests) {
        TestKind kind = program.tests[t].kind;
        if (kind == TestKind::kFromRule) continue;
        ++references;
        auto add = [&](std::vector<uint32_t>& to) {
          if (out.test_bit[t] < 0 && std::find(to.begin(), to.end(), t) == to.end())
            to.push_back(t);
        };
        if (kind == TestKind::kName) add(new_names);
        if (kind == TestKind::kSource) add(new_sources);
        if (kind == TestKind::kDestination) add(new_destinations);
        if (kind == TestKind::kRegex && !regex_counted[t] &&
            std::find(new_regexes.begin(), new_regexes.end(), t) == new_regexes.end()) {
          new_regexes.push_back(t);
        }
      }
      struct Budget {
        const std::vector<uint32_t>& added;
        uint32_t used;
        unsigned limit;
        const char* what;
      };
      const Budget budgets[] = {
          {new_names, out.name_bits, limits.name_bits, "name test"},
          {new_sources, out.source_bits, limits.source_bits, "source netmask test"},
          {new_destinations, out.destination_bits, limits.destination_bits,
           "destination netmask test"},
          {new_regexes, out.general_regexes, limits.general_regexes, "regex"},
      };
      bool over = false;
      for (const Budget& b : budgets) {
        if (b.used + b.added.size() <= b.limit) continue;
        uint32_t first_over = b.added[b.limit - std::min<uint32_t>(b.used, b.limit)];
        stop(fmt::format("a {} {} outside a plain match exceeds the kernel's budget of {}",
                         ordinal(uint64_t{b.limit} + 1), b.what, grouped(b.limit)),
             program.tests[first_over].range);
        over = true;
        break;
      }
      if (over) break;
      if (out.general_tests + references > limits.general_tests) {
        stop(fmt::format("its {} tests would bring the tests of rules that are not plain matches "
                         "to {}, past "
                         "the kernel's budget of {}",
                         grouped(references), grouped(uint64_t{out.general_tests} + references),
                         grouped(limits.general_tests)),
             rule.range);
        break;
      }
      for (uint32_t t : new_names) out.test_bit[t] = static_cast<int>(out.name_bits++);
      for (uint32_t t : new_sources) out.test_bit[t] = static_cast<int>(out.source_bits++);
      for (uint32_t t : new_destinations)
        out.test_bit[t] = static_cast<int>(out.destination_bits++);
      for (uint32_t t : new_regexes) regex_counted[t] = true;
      out.general_regexes += static_cast<uint32_t>(new_regexes.size());
      out.general_tests += references;
      ++general_rules;
    }
    out.folds.push_back(fold.kind);
    out.fold_tests.push_back(fold.test);
    out.fold_qtype_tests.push_back(fold.qtype_test);
    out.rules = i + 1;
  }
  return out;
}

}  // namespace dnspc::kernel
