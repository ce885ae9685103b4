// A worker's side of the packet cache (docs/cache.md): the lookup once the
// verdict names a pool with a cache, and a hit sent through the answer
// stage as a backend answer would be (response rules, size limit, rings).
// The store of backend answers is a tap of the answer stage.
#include <cstring>

#include "dnspc/cache_wire.h"
#include "dnspc/wire.h"
#include "worker.h"

namespace dnspc::runtime {

bool Worker::answer_from_cache(const Client& c, const Verdict& v, uint32_t pool_index,
                               CacheProbe& probe, const char*& outcome) {
  const ActivePolicy& p = *policy_;
  if (pool_index >= p.pools.size() || !p.pools[pool_index].cache ||
      (v.modifiers & modifier_bits::kNoCache)) {
    return false;
  }
  PoolCache& cache = *p.pools[pool_index].cache;
  const QueryView& q = view_;
  const bool rd = q.has_flag(header_bits::kRD) && !(v.modifiers & modifier_bits::kNoRecurse);
  const bool cd = q.has_flag(header_bits::kCD) || (v.modifiers & modifier_bits::kSetCd);
  if (!make_cache_key(q, rd, cd, cache_key_)) return false;
  probe.cache = &cache;
  probe.pool = static_cast<uint16_t>(pool_index + 1);
  probe.flags = static_cast<uint8_t>((rd ? 1 : 0) | (cd ? 2 : 0));
  cache.store.hash_key(cache_key_);
  probe.buffer = next_local_buffer();
  probe.found = cache.store.lookup(cache_key_, now_ns_, cache.stale_ns != 0, probe.buffer);
  CacheCounters& counters = cache.counters[config_.index % cache.workers];
  if (probe.found.collision) counters.collisions.add();
  if (probe.found.result != CacheFind::kFresh) {
    counters.misses.add();
    return false;
  }
  serve_cached(c, probe, false, outcome);
  return true;
}

void Worker::serve_cached(const Client& c, CacheProbe& probe, bool stale, const char*& outcome) {
  CacheCounters& counters = probe.cache->counters[config_.index % probe.cache->workers];
  uint8_t* answer = probe.buffer;
  if (!serve_cache_answer(answer, probe.found.size, view_,
                          static_cast<uint32_t>(probe.found.age_ns / 1'000'000'000), stale)) {
    outcome = "dropped (unreadable cache entry)";
    return;
  }
  (stale ? counters.stale_served : counters.hits).add();
  ++local_used_;  // the answer stays in its buffer until the batch is flushed
  answer_stage_.bind(policy_, recorder_, &state_, &taps_, lua_);
  // What a response rule or the size limit makes goes to scratch memory and
  // then over the hit in its own buffer: one local buffer per hit, as for
  // any answer made here (taking a second would split the batch's sendmmsg).
  AnswerResult r =
      answer_stage_.deliver_cached(view_, deciding_tags_, *c.address, answer, probe.found.size,
                                   now_ns_, cache_scratch_.get(), kLocalAnswerSize);
  if (r.used_buffer && r.data) {
    std::memcpy(answer, r.data, r.size);
    r.data = answer;
  }
  if (!r.data) {
    outcome = "response dropped";
    return;  // over TCP the connection then ends (tcp_answer_owed_ stays false)
  }
  outcome = stale ? "answered from cache (stale)" : "answered from cache";
  reply(c, r.data, r.size, AnswerSource::kCache);
}

bool Worker::answer_stale_on_timeout(const InFlightQuery& q) {
  const ActivePolicy& p = *policy_;
  // Forwarded under another policy: its pool index may name another pool.
  if (!q.cache_pool || q.cache_generation != static_cast<uint32_t>(p.generation) ||
      q.cache_pool > p.pools.size()) {
    return false;
  }
  const BoundPool& pool = p.pools[q.cache_pool - 1u];
  if (!pool.cache || !pool.cache_stale_on_timeout) return false;
  PoolCache& cache = *pool.cache;
  QueryView& view = timeout_view_;
  if (!answer_stage_.rebuild_query_view(q, destination_of(q), view) ||
      !make_cache_key(view, q.cache_flags & 1, q.cache_flags & 2, cache_key_)) {
    return false;
  }
  cache.store.hash_key(cache_key_);
  uint8_t* answer = next_local_buffer();
  // Fresh is possible too: another query may have stored the answer while
  // this one waited. It is served with its own TTLs; a stale one with 30 s.
  const CacheLookup found = cache.store.lookup(cache_key_, now_ns_, true, answer);
  if (found.result == CacheFind::kMiss) return false;
  if (!serve_cache_answer(answer, found.size, view,
                          static_cast<uint32_t>(found.age_ns / 1'000'000'000),
                          found.result == CacheFind::kStale)) {
    return false;
  }
  cache.counters[config_.index % cache.workers].stale_served.add();
  ++local_used_;  // the answer stays in its buffer until the batch is flushed
  answer_stage_.bind(policy_, recorder_, &state_, &taps_, lua_);
  const uint64_t waited_us = (now_ns_ > q.sent_ns ? now_ns_ - q.sent_ns : 0) / 1000;
  AnswerResult r = answer_stage_.deliver_cached(view, q.tags, q.client, answer, found.size, now_ns_,
                                                cache_scratch_.get(), kLocalAnswerSize, waited_us);
  if (r.used_buffer && r.data) {
    std::memcpy(answer, r.data, r.size);
    r.data = answer;
  }
  if (!r.data) {
    // A response rule dropped it: as for a backend answer, the client gets
    // nothing (over TCP its connection ends).
    if (q.tcp) end_tcp_client_after_drop(*q.tcp);
    return true;
  }
  record_answer({q.qname, q.qname_length, q.qtype, q.client_address(), q.transport, r.data, r.size,
                 static_cast<uint32_t>(waited_us), TrafficRecord::kNone, q.rule, ActionKind::kPool,
                 AnswerSource::kCache});
  send_answer(q, r.data, r.size, true);
  return true;
}

}  // namespace dnspc::runtime
