// The table's entries for what the policy's rules did: response rules,
// `delay`, and hits per rule and per tag (by the names in the registry).
#include "dnspc/verdict.h"
#include "metric_defs.h"

namespace dnspc::runtime {

namespace {

uint64_t kernel_rule_hits(const Registry& r, uint32_t id) {
  return id < r.kernel.rule_hits.size() ? r.kernel.rule_hits[id] : 0;
}

}  // namespace

void add_policy_metrics(std::vector<MetricDef>& t) {
  t.push_back({.name = "response_actions_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Terminal actions response rules took on backend answers.",
               .labels = {"action"},
               .json = "response_actions.{action}",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 // The only terminal actions a response rule can have.
                 for (ActionKind k : {ActionKind::kDrop, ActionKind::kTruncate, ActionKind::kRcode}) {
                   const unsigned a = static_cast<unsigned>(k);
                   out.integer({{"action", action_kind_name(k)}},
                               sum_workers(*c.registry, [a](const WorkerCounters& w) -> const Counter& { return w.response_actions[a]; }));
                 }
               }});
  t.push_back({.name = "delay_held_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Answers held back by the delay modifier.",
               .json = "delay.held",
               .read = sum_of(&WorkerCounters::delayed)});
  t.push_back({.name = "delay_dropped_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Answers a delay rule could not hold (max_held_answers reached, or over 4 KiB): dropped.",
               .json = "delay.dropped_full",
               .read = sum_of(&WorkerCounters::delay_dropped)});
  // The running policy's names; a removed one keeps its counter in the
  // registry and shows again if a reload brings it back.
  // Prometheus sees where each rule decided (path: the kernel fast path's
  // XDP program or user space, docs/xdp.md); the document and `ctl` the sum.
  t.push_back({.name = "rule_hits_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries each rule of the running policy decided, in the kernel (XDP) or in user space "
                       "(Prometheus: rules with hits only).",
               .labels = {"rule", "path"},
               .sparse = true,
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.rule_count(); ++id) {
                   if (!r.rule_live(id)) continue;
                   out.integer({{"rule", r.rule_name(id)}, {"path", "user"}},
                               sum_workers(r, [id](const WorkerCounters& w) -> const Counter& { return w.rule_hits[id]; }));
                   out.integer({{"rule", r.rule_name(id)}, {"path", "kernel"}}, kernel_rule_hits(r, id));
                 }
               }});
  t.push_back({.name = "rule_hits_all_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries each rule of the running policy decided, kernel and user space together.",
               .labels = {"rule"},
               .json = "rules.{rule}",
               .sparse = true,
               .prometheus = false,
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.rule_count(); ++id) {
                   if (!r.rule_live(id)) continue;
                   out.integer({{"rule", r.rule_name(id)}},
                               sum_workers(r, [id](const WorkerCounters& w) -> const Counter& { return w.rule_hits[id]; }) +
                                   kernel_rule_hits(r, id));
                 }
               }});
  t.push_back({.name = "tag_hits_total",
               .type = MetricType::kCounter,
               .unit = "",
               .help = "Queries each tag of the running policy was set on (Prometheus: tags with hits only).",
               .labels = {"tag"},
               .json = "tags.{tag}",
               .sparse = true,
               .read = [](const MetricsContext& c, MetricSink& out) {
                 const Registry& r = *c.registry;
                 for (uint32_t id = 0; id < r.tag_count(); ++id) {
                   if (!r.tag_live(id)) continue;
                   out.integer({{"tag", r.tag_name(id)}},
                               sum_workers(r, [id](const WorkerCounters& w) -> const Counter& { return w.tag_hits[id]; }));
                 }
               }});
}

}  // namespace dnspc::runtime
