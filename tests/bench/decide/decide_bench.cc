// Decision time per packet: reference interpreter, optimised structure (C++)
// and native code (LLVM JIT), on a policy file and a query mix larger than
// the caches.
//
//   dnspc_decide_bench POLICY [--queries N] [--rounds R] [--hit-percent P] [--no-interpreter]
//
// (--no-interpreter skips the reference interpreter, which takes minutes at
// 100k rules; its figure is then 0.)
// Prints one JSON object: compile phase times (front end, then the JIT:
// tables, IR, O2, machine code), peak RSS after each, and the median over R
// rounds of ns per decision for each engine, on views parsed beforehand (an
// array of views larger than the caches: every decision starts with the
// view's cache misses) and, as "*_hot_view_ns", on a view the parser has just
// filled, as in the runtime (ns per parse + decision minus ns per parse).
// The native verdicts are checked against the optimised evaluator's on
// every query ("native_mismatches").
// Not a test: figures go to docs/benchmarks.md.
#include <fmt/core.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dnspc/diag/diagnostics.h"
#include "dnspc/interp/interpreter.h"
#include "dnspc/ir/state.h"
#include "dnspc/jit/native.h"
#include "dnspc/opt/index.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/wire.h"

using namespace dnspc;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string policy;
  size_t queries = 200'000;
  int rounds = 5;
  int hit_percent = 10;
  bool interpreter = true;
};

// Names under the policy's own suffixes (a share of the traffic hits rules)
// and random names that hit nothing; sources inside and outside its prefixes.
std::vector<std::vector<uint8_t>> make_packets(const ir::Program& p, const Options& o,
                                               std::vector<NetAddress>& sources) {
  std::mt19937_64 rng(42);
  std::vector<std::string> suffixes;
  for (const auto& set : p.name_sets) {
    for (const auto& e : set.entries) {
      // Back to text: labels joined by dots.
      std::string text;
      for (size_t i = 0; i < e.wire.size() && e.wire[i];) {
        size_t len = static_cast<uint8_t>(e.wire[i]);
        text += e.wire.substr(i + 1, len) + ".";
        i += len + 1;
      }
      if (!text.empty()) suffixes.push_back(text);
    }
  }
  std::vector<NetAddress> prefixes;
  for (const auto& set : p.prefix_sets) {
    for (const auto& pre : set.prefixes) prefixes.push_back(pre.address);
  }
  auto label = [&] {
    std::string s;
    int n = 4 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) s += static_cast<char>('a' + rng() % 26);
    return s;
  };
  std::vector<std::vector<uint8_t>> packets;
  packets.reserve(o.queries);
  for (size_t i = 0; i < o.queries; ++i) {
    bool hit = static_cast<int>(rng() % 100) < o.hit_percent;
    std::string name = label() + ".";
    if (hit && !suffixes.empty()) {
      name += suffixes[rng() % suffixes.size()];
    } else {
      name += "bench" + std::to_string(rng() % 1000) + ".test.";
    }
    std::vector<uint8_t> pkt = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    uint8_t wire[256];
    size_t len = encode_name(name, wire, sizeof wire);
    pkt.insert(pkt.end(), wire, wire + len);
    uint16_t type = (rng() % 10 == 0) ? 16 : 1;
    pkt.push_back(static_cast<uint8_t>(type >> 8));
    pkt.push_back(static_cast<uint8_t>(type));
    pkt.push_back(0);
    pkt.push_back(1);
    packets.push_back(std::move(pkt));
    NetAddress src = *NetAddress::parse("127.0.0.1");
    if (hit && !prefixes.empty() && rng() % 2 == 0) {
      src = prefixes[rng() % prefixes.size()];
      src.bytes[src.is_v6() ? 15 : 3] |= static_cast<uint8_t>(rng() % 4);
    }
    sources.push_back(src);
  }
  return packets;
}

template <typename Decide>
double ns_per_decision(const std::vector<QueryView>& views, Decide&& decide) {
  volatile uint32_t sink = 0;
  auto start = Clock::now();
  for (const QueryView& v : views) sink = sink + decide(v).rule;
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  (void)sink;
  return ns / static_cast<double>(views.size());
}

// As the runtime decides: on a view the parser has just filled (in cache),
// the packets streaming from memory. ns per (parse + decide); with a decide
// that does nothing, the parse alone.
template <typename Decide>
double ns_per_parse_and_decision(const std::vector<std::vector<uint8_t>>& packets,
                                 const std::vector<NetAddress>& sources, Decide&& decide) {
  volatile uint32_t sink = 0;
  QueryView v;
  v.destination = *NetAddress::parse("127.0.0.1", 53);
  auto start = Clock::now();
  for (size_t i = 0; i < packets.size(); ++i) {
    parse_query(packets[i].data(), packets[i].size(), Transport::kUdp, v);
    v.source = sources[i];
    sink = sink + decide(v).rule;
  }
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  (void)sink;
  return ns / static_cast<double>(packets.size());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--queries" && i + 1 < argc) o.queries = std::stoul(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc) o.rounds = std::stoi(argv[++i]);
    else if (a == "--hit-percent" && i + 1 < argc) o.hit_percent = std::stoi(argv[++i]);
    else if (a == "--no-interpreter")
      o.interpreter = false;
    else o.policy = a;
  }
  if (o.policy.empty()) {
    fmt::print(stderr,
               "usage: dnspc_decide_bench POLICY [--queries N] [--rounds R] [--hit-percent P] "
               "[--no-interpreter]\n");
    return 2;
  }
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions load;
  load.check_lua = false;
  auto start = Clock::now();
  auto r = pipeline::compile_file(o.policy, diags, load);
  double compile_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!r.policy) {
    fmt::print(stderr, "{}{}\n", diag::render_text(diags), r.io_error);
    return 1;
  }
  const auto& pol = *r.policy;
  long rss_after_compile = peak_rss_kb();

  // Native code: the JIT's own time, from the optimised policy.
  std::string error;
  auto jit_start = Clock::now();
  std::unique_ptr<jit::Engine> engine = jit::Engine::create(error);
  if (!engine) {
    fmt::print(stderr, "no JIT: {}\n", error);
    return 1;
  }
  double engine_s = std::chrono::duration<double>(Clock::now() - jit_start).count();
  std::shared_ptr<const opt::OptimizedPolicy> optimized(
      std::shared_ptr<const opt::OptimizedPolicy>(), &pol.optimized);
  jit_start = Clock::now();
  std::unique_ptr<jit::NativePolicy> native = engine->compile(optimized, error);
  double jit_s = std::chrono::duration<double>(Clock::now() - jit_start).count();
  if (!native) {
    fmt::print(stderr, "native code: {}\n", error);
    return 1;
  }
  long rss_after_jit = peak_rss_kb();

  std::vector<NetAddress> srcs;
  auto packets = make_packets(pol.reference, o, srcs);
  std::vector<QueryView> views(packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    views[i].source = srcs[i];
    views[i].destination = *NetAddress::parse("127.0.0.1", 53);
    parse_query(packets[i].data(), packets[i].size(), Transport::kUdp, views[i]);
  }

  ir::ProgramState ref_state(pol.reference), opt_state(pol.optimized.program),
      native_state(pol.optimized.program);
  native_state.reserve_scratch(native->scratch_words());
  std::vector<double> interp_ns, opt_ns, native_ns, parse_ns, opt_hot_ns, native_hot_ns;
  uint64_t now = 1'000'000'000;
  // The interpreter is slow at 100k rules; give it fewer queries there.
  std::vector<QueryView> interp_views(views.begin(),
                                      views.begin() + std::min(views.size(), pol.reference.rules.size() > 10'000 ? size_t{2000} : views.size()));
  for (int round = 0; round < o.rounds; ++round) {
    interp_ns.push_back(
        !o.interpreter ? 0.0 : ns_per_decision(interp_views, [&](const QueryView& v) {
          return interp::interpret(pol.reference, v, ref_state.for_query(now));
        }));
    opt_ns.push_back(ns_per_decision(views, [&](const QueryView& v) {
      return opt::evaluate(pol.optimized, v, opt_state.for_query(now));
    }));
    native_ns.push_back(ns_per_decision(
        views, [&](const QueryView& v) { return native->decide(v, native_state.for_query(now)); }));
    parse_ns.push_back(ns_per_parse_and_decision(packets, srcs, [&](const QueryView& v) {
      return Verdict{v.qtype, ActionKind::kDrop, 0, 0};
    }));
    opt_hot_ns.push_back(ns_per_parse_and_decision(packets, srcs, [&](const QueryView& v) {
      return opt::evaluate(pol.optimized, v, opt_state.for_query(now));
    }));
    native_hot_ns.push_back(ns_per_parse_and_decision(packets, srcs, [&](const QueryView& v) {
      return native->decide(v, native_state.for_query(now));
    }));
  }
  size_t mismatches = 0;
  for (const QueryView& v : views) {
    if (!(native->decide(v, native_state.for_query(now)) ==
          opt::evaluate(pol.optimized, v, opt_state.for_query(now)))) {
      ++mismatches;
    }
  }
  const jit::CompileStats& js = native->stats();
  const auto& st = pol.optimized.index.stats;
  fmt::print(
      "{{\"policy\": \"{}\", \"rules\": {}, \"queries\": {}, \"hit_percent\": {}, "
      "\"parse_s\": {:.3f}, \"sema_s\": {:.3f}, \"lower_s\": {:.3f}, \"optimize_s\": {:.3f}, "
      "\"compile_total_s\": {:.3f}, \"peak_rss_mb_after_compile\": {:.1f}, "
      "\"jit_engine_s\": {:.3f}, \"jit_compile_s\": {:.3f}, \"jit_tables_s\": {:.3f}, "
      "\"jit_ir_s\": {:.3f}, "
      "\"jit_optimize_s\": {:.3f}, \"jit_codegen_s\": {:.3f}, \"compile_and_jit_s\": {:.3f}, "
      "\"peak_rss_mb_after_jit\": {:.1f}, \"shapes\": {}, \"ir_instructions\": {}, "
      "\"native_data_mb\": {:.1f}, "
      "\"scratch_words\": {}, "
      "\"interpreter_ns\": {:.1f}, \"optimized_ns\": {:.1f}, \"native_ns\": {:.1f}, "
      "\"native_mismatches\": {}, "
      "\"parse_ns\": {:.1f}, \"optimized_hot_view_ns\": {:.1f}, \"native_hot_view_ns\": {:.1f}, "
      "\"anchored_rules\": {}, \"always_rules\": {}, \"name_keys\": {}, \"regex_unions\": {}, "
      "\"regexes_prefiltered\": {}}}\n",
      o.policy, pol.reference.rules.size(), views.size(), o.hit_percent, pol.times.front.parse_s,
      pol.times.front.sema_s, pol.times.lower_s, pol.times.optimize_s, compile_s,
      static_cast<double>(rss_after_compile) / 1024.0, engine_s, jit_s, js.tables_s, js.ir_s,
      js.optimize_s, js.jit_s, compile_s + jit_s, static_cast<double>(rss_after_jit) / 1024.0,
      js.shapes, js.ir_instructions, static_cast<double>(js.data_bytes) / 1e6,
      native->scratch_words(), median(interp_ns), median(opt_ns), median(native_ns), mismatches,
      median(parse_ns), median(opt_hot_ns) - median(parse_ns),
      median(native_hot_ns) - median(parse_ns), st.anchored_rules, st.always_rules, st.name_keys,
      st.regex_unions, st.regexes_prefiltered);
  return 0;
}
