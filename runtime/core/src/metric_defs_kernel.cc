// The table's entries for the kernel fast path (docs/xdp.md, "Counters"):
// whether its XDP program runs, how many rules it owns, and what became of
// the packets it saw. Its rule hits and actions are in rule_hits_total and
// queries_total, with path="kernel".
#include "metric_defs.h"

namespace dnspc::runtime {

void add_kernel_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "xdp_attached",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "1 while the kernel fast path's XDP program runs.",
               .json = "kernel.attached",
               .read = [](const MetricsContext& c, MetricSink& out) { out.integer({}, c.registry->kernel.attached ? 1 : 0); }});
  t.push_back({.name = "xdp_rules",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Rules the kernel fast path owns: the longest prefix of kernel-eligible rules.",
               .json = "kernel.rules",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 out.integer({}, c.registry->kernel.attached ? c.registry->kernel.rules : 0);
               }});
  t.push_back({.name = "xdp_packets_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP queries to a listener the XDP program saw: decided by a dynamic block, passed up "
                       "evaluated (no prefix rule held), or passed up unparsed (user space evaluates them whole).",
               .labels = {"result"},
               .json = "kernel.packets.{result}",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const KernelCounters& k = c.registry->kernel;
                 out.integer({{"result", "seen"}}, k.seen);
                 out.integer({{"result", "blocked"}}, k.blocked);
                 out.integer({{"result", "passed"}}, k.passed);
                 out.integer({{"result", "unparsed"}}, k.unparsed);
               }});
  t.push_back({.name = "xdp_unsealed_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Of the passed up evaluated: queries the XDP program could not seal (bytes past the UDP "
                       "message, no room to grow), passed up unmarked, so user space evaluated them whole.",
               .json = "kernel.unsealed",
               .read = [](const MetricsContext& c, MetricSink& out) { out.integer({}, c.registry->kernel.unsealed); }});
  t.push_back({.name = "xdp_marked_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "UDP queries user space received marked and sealed by the XDP program as evaluated (it starts "
                       "after the kernel's rules, once the policy trusts the mark).",
               .json = "kernel.marked",
               .read = sum_of(&WorkerCounters::kernel_evaluated)});
}

}  // namespace dnspc::runtime
