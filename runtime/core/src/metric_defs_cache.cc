// The table's entries for the packet caches: per pool, from the running
// policy's caches (a cache replaced by a reload starts again at zero).
#include "dnspc/runtime/active_policy.h"
#include "metric_defs.h"

namespace dnspc::runtime {

namespace {

using CacheField = Counter CacheCounters::*;

MetricReader per_cache(CacheField f) {
  return [f](const MetricsContext& c, MetricSink& out) {
    if (!c.policy) return;
    for (const BoundPool& p : c.policy->pools) {
      if (p.cache) out.integer({{"pool", p.name}}, p.cache->sum(f));
    }
  };
}

}  // namespace

void add_cache_metrics(std::vector<MetricDef>& t) {
  const struct {
    const char* name;
    const char* help;
    const char* json;
    CacheField field;
  } counters[] = {
      {"cache_hits_total", "Queries answered from the pool's cache.", "cache.{pool}.hits",
       &CacheCounters::hits},
      {"cache_misses_total", "Cacheable queries the pool's cache had no fresh answer for.",
       "cache.{pool}.misses", &CacheCounters::misses},
      {"cache_collisions_total",
       "Lookups where another key had the same hash tag (counted as misses).",
       "cache.{pool}.collisions", &CacheCounters::collisions},
      {"cache_stale_served_total",
       "Answers served from the stale window: no server of the pool was usable, or "
       "(stale_on_timeout) the "
       "query timed out.",
       "cache.{pool}.stale_served", &CacheCounters::stale_served},
      {"cache_stored_total", "Backend answers stored in the pool's cache.", "cache.{pool}.stored",
       &CacheCounters::stored},
      {"cache_evictions_total", "Stores that replaced a live entry (CLOCK eviction).",
       "cache.{pool}.evictions", &CacheCounters::evictions},
      {"cache_insert_failures_total",
       "Stores given up because another worker was writing the slot.",
       "cache.{pool}.insert_failures", &CacheCounters::insert_failures},
      {"cache_not_cacheable_total",
       "Backend answers not kept (TC=1, rcode, no TTL, too large, signed).",
       "cache.{pool}.not_cacheable", &CacheCounters::not_cacheable},
  };
  for (const auto& c : counters) {
    t.push_back({.name = c.name,
                 .type = MetricType::kCounter,
                 .unit = "",
                 .help = c.help,
                 .labels = {"pool"},
                 .json = c.json,
                 .read = per_cache(c.field)});
  }
  t.push_back({.name = "cache_entries",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Slots of the pool's cache holding an answer (fresh, stale or expired not "
                       "yet replaced).",
               .labels = {"pool"},
               .json = "cache.{pool}.entries",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 if (!c.policy) return;
                 for (const BoundPool& p : c.policy->pools) {
                   if (p.cache) out.integer({{"pool", p.name}}, p.cache->store.used());
                 }
               }});
  t.push_back({.name = "cache_capacity",
               .type = MetricType::kGauge,
               .unit = "",
               .help = "Entries the pool's cache can hold.",
               .labels = {"pool"},
               .json = "cache.{pool}.capacity",
               .read = [](const MetricsContext& c, MetricSink& out) {
                 if (!c.policy) return;
                 for (const BoundPool& p : c.policy->pools) {
                   if (p.cache) out.integer({{"pool", p.name}}, p.cache->store.capacity());
                 }
               }});
}

}  // namespace dnspc::runtime
