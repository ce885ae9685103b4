// Regex compile time, as `dnspc check` spends it (parse_regex + compile_dfa
// per distinct pattern), on the regex shapes of the benchmark rule mix
// (tests/bench/rules.py `_regex`, wrapped as /^(...)\.$/ by render_dnspc.py).
//
//   dnspc_regex_bench [--count N] [--rounds R] [--seed S] [--patterns FILE]
//   dnspc_regex_bench --dump FILE [--count N] [--seed S]
//
// Timing prints the best of R rounds in µs per regex. --patterns reads one
// pattern per line instead of generating the mix. --dump writes every table
// built from the mix, from N random patterns of the property tests' grammar
// and from unions of those, one line each, so that two builds can be compared
// with cmp. Not a test.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dnspc/regex/compile.h"
#include "dnspc/regex/parse.h"
#include "regex_test_support.h"

using namespace dnspc;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  size_t count = 12'500;
  int rounds = 5;
  uint32_t seed = 2024;
  std::string patterns;
  std::string dump;
};

class MixGenerator {
 public:
  explicit MixGenerator(uint32_t seed) : rng_(seed) {}

  // rules.py `_regex(rng, i)`, wrapped the way render_dnspc.py wraps it.
  std::string pattern(size_t i) {
    const std::string zone = fmt::format("nomatch-re-{}\\.invalid", i);
    std::string body;
    switch (pick(0, 3)) {
      case 0: body = fmt::format("[a-z0-9]{{{},}}\\.{}", pick(12, 32), zone); break;
      case 1: body = fmt::format("(www|mail|ns[0-9]+)\\.{}\\.{}", label(), zone); break;
      case 2: body = fmt::format("[a-z]+-[0-9]{{{}}}\\.{}", pick(2, 6), zone); break;
      default: body = fmt::format("([a-z0-9-]+\\.)*{}[0-9]*\\.{}", label(), zone); break;
    }
    return "^(" + body + ")\\.$";
  }

 private:
  size_t pick(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng_); }

  std::string label() {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s(pick(3, 10), ' ');
    for (char& c : s) c = kAlphabet[pick(0, kAlphabet.size() - 1)];
    return s;
  }

  std::mt19937 rng_;
};

std::vector<std::string> mix(const Options& o) {
  MixGenerator g(o.seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < o.count; ++i) out.push_back(g.pattern(i));
  return out;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    fmt::print(stderr, "cannot read {}\n", path);
    std::exit(2);
  }
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<regex::Regex> parse_all(const std::vector<std::string>& patterns) {
  std::vector<regex::Regex> out;
  for (const std::string& p : patterns) {
    auto r = regex::parse_regex(p);
    if (!r) {
      fmt::print(stderr, "bad pattern {}: {}\n", p, r.error().message);
      std::exit(2);
    }
    out.push_back(std::move(r.value()));
  }
  return out;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Best of `rounds`, in µs per pattern, of parse + compile (what check does).
void time_compile(const std::vector<std::string>& patterns, int rounds) {
  const std::vector<regex::Regex> parsed = parse_all(patterns);
  double best_total = 1e100, best_parse = 1e100;
  size_t states = 0;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = Clock::now();
    for (const std::string& p : patterns) {
      auto ast = regex::parse_regex(p);
      if (!ast) std::abort();
    }
    best_parse = std::min(best_parse, seconds_since(t0));
    states = 0;
    t0 = Clock::now();
    for (const std::string& p : patterns) {
      auto ast = regex::parse_regex(p);
      auto dfa = regex::compile_dfa(ast.value());
      if (!dfa) std::abort();
      states += dfa->state_count;
    }
    best_total = std::min(best_total, seconds_since(t0));
  }
  const double n = static_cast<double>(patterns.size());
  fmt::print("{} patterns, best of {} rounds: {:.2f} us per regex (parse alone {:.2f} us), "
             "{:.1f} DFA states on average\n",
             patterns.size(), rounds, best_total * 1e6 / n, best_parse * 1e6 / n,
             static_cast<double>(states) / n);
}

void dump_table(std::FILE* f, const DfaTable& t) {
  fmt::print(f, "states {} classes {} start {} sinks {} patterns {} |", t.state_count,
             t.class_count, t.start, t.sink_count, t.pattern_count);
  for (uint8_t c : t.byte_class) fmt::print(f, " {}", c);
  fmt::print(f, " | next");
  for (uint16_t s : t.next) fmt::print(f, " {}", s);
  fmt::print(f, " | accepting");
  for (uint8_t a : t.accepting) fmt::print(f, " {}", a);
  fmt::print(f, " | begin");
  for (uint32_t b : t.accept_begin) fmt::print(f, " {}", b);
  fmt::print(f, " | ids");
  for (uint32_t id : t.accept_ids) fmt::print(f, " {}", id);
  fmt::print(f, "\n");
}

// Patterns at the edges: the pathological tests' and large alternations of
// single bytes (many members per DFA state, many classes).
std::vector<std::string> stress_patterns() {
  std::vector<std::string> out = {
      "(a|aa)*b", "^(a+)+$", "((a|b)*c){10}", "(a*b*)*c(a|b){0,5}a", ".*a.{20}$", "a[ab]{30}$",
      "a[ab]{10}$", "[a-z]{1000}", "^[a-z]{1,1000}$", "(.*){1000}", "(a?){1000}a{1000}",
      "^(a|b|c|d|e|f|g|h)*x{500}$", "(x+x+)+y", "(\\w+\\.)+example\\.com\\.$",
      "((a?){1000}){9}((a){1000}){9}", "(.{0,900}a){20}", "^$", "a|^b|c$", "[^a]", "\\x00+",
  };
  std::string alternatives;
  for (unsigned b = 1; b < 256; ++b) {
    if (b == 'x' || b == 'y' || (b >= 'A' && b <= 'Z')) continue;
    alternatives += fmt::format("{}\\x{:02x}", alternatives.empty() ? "" : "|", b);
  }
  const std::string alt = "(?:" + alternatives + ")";
  for (const std::string& p : {"^x{0,1000}" + alt + "y", "^(?:x{0,100}" + alt + "){1,5}y",
                               alt + "[ab]{12}$", "^(?:" + alt + "|x)*x{500}$",
                               "(?:" + alt + "){1,30}y", "^(?:" + alt + "){3}$", alt + "x"}) {
    out.push_back(p);
  }
  return out;
}

// One line per compiled pattern or union; failures (budget) are lines too.
void dump(const Options& o) {
  std::FILE* f = std::fopen(o.dump.c_str(), "w");
  if (!f) {
    fmt::print(stderr, "cannot write {}\n", o.dump);
    std::exit(2);
  }
  auto one = [&](const std::string& p, const regex::DfaOptions& options) {
    auto ast = regex::parse_regex(p);
    if (!ast) return fmt::print(f, "{}\tparse error\n", p);
    auto dfa = regex::compile_dfa(ast.value(), options);
    if (!dfa) return fmt::print(f, "{}\terror {}\n", p, dfa.error().message);
    fmt::print(f, "{}\t", p);
    dump_table(f, dfa.value());
  };
  const std::vector<std::string> mixed = mix(o);
  for (const std::string& p : mixed) one(p, {});
  for (const std::string& p : stress_patterns()) {
    for (uint32_t budget : {10000u, 1000u, 65535u}) one(p, regex::DfaOptions{budget});
  }

  regex_test::PatternGenerator g(o.seed);
  std::vector<regex::Regex> parsed;
  for (size_t i = 0; i < o.count; ++i) {
    const std::string p = g.pattern();
    one(p, {});
    one(p, regex::DfaOptions{8});  // small budgets exercise the failure paths
    if (auto r = regex::parse_regex(p)) parsed.push_back(std::move(r.value()));
  }
  // Unions of 1..8 consecutive random patterns, at two budgets.
  std::mt19937 rng(o.seed);
  for (size_t i = 0; i < parsed.size();) {
    const size_t n = std::min<size_t>(1 + rng() % 8, parsed.size() - i);
    std::vector<const regex::Regex*> members;
    for (size_t j = 0; j < n; ++j) members.push_back(&parsed[i + j]);
    for (uint32_t budget : {10000u, 30u}) {
      auto t = regex::build_union(members, regex::DfaOptions{budget});
      fmt::print(f, "union {}+{} budget {}\t", i, n, budget);
      if (t) {
        dump_table(f, *t);
      } else {
        fmt::print(f, "over budget\n");
      }
    }
    i += n;
  }
  // Unions of up to 64 mix patterns, as the optimiser builds them: states
  // with many members moving on single bytes.
  const std::vector<regex::Regex> parsed_mix = parse_all(mixed);
  for (size_t i = 0; i < parsed_mix.size();) {
    const size_t n = std::min<size_t>(2 + rng() % 63, parsed_mix.size() - i);
    std::vector<const regex::Regex*> members;
    for (size_t j = 0; j < n; ++j) members.push_back(&parsed_mix[i + j]);
    for (uint32_t budget : {10000u, 300u}) {
      auto t = regex::build_union(members, regex::DfaOptions{budget});
      fmt::print(f, "mix union {}+{} budget {}\t", i, n, budget);
      if (t) {
        dump_table(f, *t);
      } else {
        fmt::print(f, "over budget\n");
      }
    }
    i += n;
  }
  std::fclose(f);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--count") {
      o.count = std::stoul(value());
    } else if (a == "--rounds") {
      o.rounds = std::max(1, std::stoi(value()));
    } else if (a == "--seed") {
      o.seed = static_cast<uint32_t>(std::stoul(value()));
    } else if (a == "--patterns") {
      o.patterns = value();
    } else if (a == "--dump") {
      o.dump = value();
    } else {
      fmt::print(stderr,
                 "usage: dnspc_regex_bench [--count N] [--rounds R] [--seed S] [--patterns FILE]\n"
                 "       dnspc_regex_bench --dump FILE [--count N] [--seed S]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  if (!o.dump.empty()) {
    dump(o);
    return 0;
  }
  time_compile(o.patterns.empty() ? mix(o) : read_lines(o.patterns), o.rounds);
  return 0;
}
