#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "dnspc/dynblock_engine.h"

using namespace dnspc;

namespace {

constexpr uint64_t kSecond = 1'000'000'000ull;

NetAddress addr(const char* text) {
  auto a = NetAddress::parse(text);
  REQUIRE(a);
  return *a;
}

SourcePrefix prefix(const char* text, uint8_t length) {
  return SourcePrefix::of(addr(text), length, length);
}

BlockSpec queries_block(const char* name, double bound, uint32_t window_s, uint64_t duration_s) {
  BlockSpec s;
  s.name = name;
  s.measure = BlockMeasure::kQueries;
  s.bound_per_second = bound;
  s.window_seconds = window_s;
  s.action = BlockActionKind::kDrop;
  s.duration_ns = duration_s * kSecond;
  return s;
}

// One worker's batch of `n` queries from `source`, as a worker would record them.
void send(BlockRecorder& r, const char* source, int n, uint16_t qtype = 1) {
  r.begin_batch();
  for (int i = 0; i < n; ++i) r.record_query(addr(source), qtype);
  r.end_batch();
}

bool blocked(BlockRecorder& r, const char* source) {
  r.begin_batch();
  const ActiveBlock* b = r.lookup(addr(source));
  r.end_batch();
  return b != nullptr;
}

}  // namespace

TEST_CASE("dynblock: a flood is blocked within the window, others are not, and it is released") {
  BlockEngine e({queries_block("flood", 10, 3, 5)}, {});
  BlockRecorder& r = e.recorder(0);
  send(r, "192.0.2.1", 20);  // second 0: 20 over 3s is 6.7/s
  send(r, "192.0.2.2", 5);
  REQUIRE(e.evaluate(1 * kSecond));
  REQUIRE_FALSE(blocked(r, "192.0.2.1"));
  send(r, "192.0.2.1", 20);  // second 1: 40 over 3s is 13.3/s
  REQUIRE(e.evaluate(2 * kSecond));
  REQUIRE(blocked(r, "192.0.2.1"));
  REQUIRE_FALSE(blocked(r, "192.0.2.2"));
  REQUIRE_FALSE(blocked(r, "192.0.2.3"));
  REQUIRE(e.active_count() == 1);
  const auto listing = e.list();
  REQUIRE(listing.size() == 1);
  CHECK(listing[0].prefix == "192.0.2.1/32");
  CHECK(listing[0].block == "flood");
  CHECK(listing[0].action == "drop");
  CHECK(listing[0].reason == "queries at 13.3/s over 3s, above 10/s");
  CHECK(listing[0].expiry_ns == 7 * kSecond);
  // Still over at 3s (seconds 0-2 hold 40): blocked for 5s from then.
  REQUIRE(e.evaluate(3 * kSecond));
  CHECK(e.list()[0].expiry_ns == 8 * kSecond);
  for (uint64_t t = 4; t < 8; ++t) {
    REQUIRE(e.evaluate(t * kSecond));
    REQUIRE(blocked(r, "192.0.2.1"));
  }
  REQUIRE(e.evaluate(8 * kSecond));
  REQUIRE_FALSE(blocked(r, "192.0.2.1"));
  REQUIRE(e.active_count() == 0);
  REQUIRE(e.idle());
}

TEST_CASE("dynblock: prefixes group sources, and the hit counter counts blocked queries") {
  BlockSpec s = queries_block("per24", 5, 1, 60);
  s.v4_prefix = 24;
  s.v6_prefix = 48;
  s.action = BlockActionKind::kPool;
  s.pool = 1;
  s.pool_name = "abuse";
  BlockEngine e({s}, {});
  BlockRecorder& r = e.recorder(0);
  for (int i = 1; i <= 6; ++i) send(r, ("198.51.100." + std::to_string(i)).c_str(), 1);
  send(r, "2001:db8:1:2::1", 3);
  send(r, "2001:db8:1:3::1", 3);
  REQUIRE(e.evaluate(kSecond));
  REQUIRE(e.active_count() == 2);
  r.begin_batch();
  const ActiveBlock* b = r.lookup(addr("198.51.100.200"));
  REQUIRE(b != nullptr);
  r.count_hit(*b);
  r.count_hit(*b);
  REQUIRE(r.lookup(addr("2001:db8:1:ffff::1")) != nullptr);
  REQUIRE(r.lookup(addr("2001:db8:2::1")) == nullptr);
  REQUIRE(r.lookup(addr("198.51.101.1")) == nullptr);
  r.end_batch();
  CHECK(e.block_hits(0) == 2);
  const auto listed = e.list();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].prefix == "198.51.100.0/24");
  CHECK(listed[0].block == "per24");
  CHECK(listed[0].reason == "queries at 6.0/s over 1s, above 5/s");
  CHECK(listed[0].action == "pool abuse");
  CHECK((listed[0].expiry_ns - 31 * kSecond) / 1'000'000 == 30000);
  CHECK(listed[0].hits == 2);
  CHECK(listed[1].prefix == "2001:db8:1::/48");
  CHECK(listed[1].hits == 0);
  const auto totals = e.totals();
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].block == "per24");
  CHECK(totals[0].active == 2);
  CHECK(totals[0].hits == 2);
  auto v = block_verdict(e.specs()[0], 7, Transport::kUdp);
  REQUIRE(v);
  CHECK(v->rule == 7);
  CHECK(v->action == ActionKind::kPool);
  CHECK(v->argument == 1);
}

TEST_CASE("dynblock: excluded netmasks are never blocked") {
  BlockSpec s = queries_block("office", 5, 1, 60);
  s.v4_prefix = 24;
  s.except = {prefix("10.0.0.0", 8), prefix("192.0.2.7", 32)};
  BlockEngine e({s}, {});
  BlockRecorder& r = e.recorder(0);
  send(r, "10.1.2.3", 100);   // inside 10/8: its /24 is never blocked
  send(r, "192.0.2.7", 100);  // blocks 192.0.2.0/24, but not .7 itself
  REQUIRE(e.evaluate(kSecond));
  REQUIRE(e.active_count() == 1);
  REQUIRE_FALSE(blocked(r, "10.1.2.3"));
  REQUIRE_FALSE(blocked(r, "192.0.2.7"));
  REQUIRE(blocked(r, "192.0.2.8"));
}

TEST_CASE("dynblock: response measures count what the backend answered") {
  BlockSpec servfail = queries_block("servfail", 2, 1, 10);
  servfail.measure = BlockMeasure::kServfail;
  BlockSpec bytes = queries_block("bytes", 1000, 1, 10);
  bytes.measure = BlockMeasure::kResponseBytes;
  BlockSpec any = queries_block("any", 2, 1, 10);
  any.measure = BlockMeasure::kQtype;
  any.qtype = 255;
  any.action = BlockActionKind::kTruncate;
  BlockEngine e({servfail, bytes, any}, {});
  BlockRecorder& r = e.recorder(0);
  r.begin_batch();
  for (int i = 0; i < 3; ++i) r.record_response(addr("192.0.2.1"), 2, 100);  // SERVFAIL x3
  for (int i = 0; i < 3; ++i)
    r.record_response(addr("192.0.2.2"), 3, 100);                      // NXDOMAIN: not SERVFAIL
  r.record_response(addr("192.0.2.3"), 0, 1500);                       // big answers
  for (int i = 0; i < 3; ++i) r.record_query(addr("192.0.2.4"), 255);  // ANY
  for (int i = 0; i < 3; ++i) r.record_query(addr("192.0.2.5"), 1);    // A
  r.end_batch();
  REQUIRE(e.evaluate(kSecond));
  r.begin_batch();
  const ActiveBlock* b1 = r.lookup(addr("192.0.2.1"));
  const ActiveBlock* b3 = r.lookup(addr("192.0.2.3"));
  const ActiveBlock* b4 = r.lookup(addr("192.0.2.4"));
  REQUIRE(b1);
  CHECK(b1->block == 0);
  REQUIRE(b3);
  CHECK(b3->block == 1);
  REQUIRE(b4);
  CHECK(b4->block == 2);
  CHECK(r.lookup(addr("192.0.2.2")) == nullptr);
  CHECK(r.lookup(addr("192.0.2.5")) == nullptr);
  r.end_batch();
  CHECK(e.list()[2].reason == "qtype ANY at 3.0/s over 1s, above 2/s");
  // A truncate block does not apply over TCP: the rules decide.
  CHECK(block_verdict(e.specs()[2], 9, Transport::kTcp) == std::nullopt);
  CHECK(block_verdict(e.specs()[2], 9, Transport::kUdp)->action == ActionKind::kTruncate);
}

TEST_CASE("dynblock: of two blocks on one source, the first in policy order applies") {
  BlockSpec wide = queries_block("wide", 5, 1, 10);
  wide.v4_prefix = 16;
  wide.except = {prefix("203.0.113.9", 32)};
  BlockSpec narrow = queries_block("narrow", 5, 1, 10);
  BlockEngine e({wide, narrow}, {});
  BlockRecorder& r = e.recorder(0);
  send(r, "203.0.113.9", 10);
  REQUIRE(e.evaluate(kSecond));
  REQUIRE(e.active_count() == 2);
  r.begin_batch();
  REQUIRE(r.lookup(addr("203.0.113.10"))->block == 0);
  REQUIRE(r.lookup(addr("203.0.113.9"))->block == 1);  // excepted from 'wide', not from 'narrow'
  r.end_batch();
}

TEST_CASE("dynblock: a million sprayed IPv6 sources neither hide the abuser nor grow memory") {
  BlockSpec s = queries_block("abuser", 2000, 1, 60);
  BlockEngineOptions options;
  options.capacity = 1024;
  BlockEngine e({s}, options);
  const size_t bytes = e.summary_bytes();
  // Two summaries of 1024 counters, whatever the traffic.
  REQUIRE(bytes == 2 * HeavyHitters(1024).bytes());
  BlockRecorder& r = e.recorder(0);
  NetAddress spray = addr("2001:db8::1");
  const NetAddress abuser = addr("2001:db8:ffff:ffff::66");
  r.begin_batch();
  for (uint32_t i = 0; i < 1'000'000; ++i) {
    // Distinct /64s: the block counts per src/32/64.
    spray.bytes[4] = static_cast<uint8_t>(i >> 16);
    spray.bytes[5] = static_cast<uint8_t>(i >> 8);
    spray.bytes[6] = static_cast<uint8_t>(i);
    spray.bytes[7] = 1;
    r.record_query(spray, 1);
    if (i % 200 == 0) r.record_query(abuser, 1);  // 5000 in the second
  }
  r.end_batch();
  REQUIRE(e.summary_bytes() == bytes);
  REQUIRE(e.evaluate(kSecond));
  REQUIRE(e.active_count() == 1);
  r.begin_batch();
  REQUIRE(r.lookup(abuser) != nullptr);
  REQUIRE(r.lookup(spray) == nullptr);
  r.end_batch();
  REQUIRE(e.summary_bytes() == bytes);
}

TEST_CASE("dynblock: blocks, hits and rings carry over to a reloaded policy by name") {
  BlockSpec kept = queries_block("kept", 10, 2, 60);
  BlockSpec gone = queries_block("gone", 10, 2, 60);
  BlockEngine old_engine({kept, gone}, {});  // the hit below goes to "kept", the first
  BlockRecorder& r = old_engine.recorder(0);
  send(r, "192.0.2.1", 50);  // over: blocked by both
  send(r, "192.0.2.2", 15);  // under: 7.5/s over 2s
  REQUIRE(old_engine.evaluate(kSecond));
  r.begin_batch();
  r.count_hit(*r.lookup(addr("192.0.2.1")));
  r.end_batch();
  REQUIRE(old_engine.active_count() == 2);

  BlockSpec kept_new = kept;
  kept_new.action = BlockActionKind::kRefuse;
  BlockEngine new_engine({queries_block("other", 10, 2, 60), kept_new}, {});
  new_engine.carry_over_from(old_engine);
  REQUIRE(new_engine.active_count() == 1);
  BlockRecorder& n = new_engine.recorder(0);
  n.begin_batch();
  const ActiveBlock* b = n.lookup(addr("192.0.2.1"));
  REQUIRE(b);
  CHECK(b->block == 1);
  n.end_batch();
  CHECK(new_engine.block_hits(1) == 1);
  CHECK(new_engine.list()[0].action == "refuse");
  CHECK(new_engine.list()[0].expiry_ns == 61 * kSecond);
  // The ring came along: 15 + 10 over 2s is above 10/s only with last second's 15.
  send(n, "192.0.2.2", 10);
  REQUIRE(new_engine.evaluate(2 * kSecond));
  n.begin_batch();
  CHECK(n.lookup(addr("192.0.2.2")) != nullptr);
  n.end_batch();
  CHECK(new_engine.active_count() == 2);
}

TEST_CASE("dynblock: two worker threads and the evaluator, blocks coming and going") {
  // Run under ASan in CI: snapshots and released blocks are freed while
  // workers keep reading, so a broken handshake shows as a use after free.
  BlockEngineOptions options;
  options.workers = 2;
  options.capacity = 64;
  BlockEngine e({queries_block("flood", 50, 1, 1)}, options);
  std::atomic<bool> stop{false};
  // The evaluator's thread grants each worker counting batches one second at
  // a time, so what a second holds is exact; between grants workers keep
  // running batches that only look blocks up, concurrently with evaluate().
  std::atomic<bool> flooding{false};
  std::atomic<uint64_t> granted[2] = {0, 0};
  std::atomic<uint64_t> counted[2] = {0, 0};
  std::atomic<uint64_t> seen[2] = {0, 0};
  // Catch2 assertions are for the main thread only: addresses are made here.
  const NetAddress abuser_address = addr("192.0.2.66"), first_other = addr("198.51.100.1");
  auto worker = [&](unsigned w) {
    BlockRecorder& r = e.recorder(w);
    const NetAddress abuser = abuser_address;
    NetAddress other = first_other;
    uint64_t done = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      r.begin_batch();
      const bool counting = done < granted[w].load(std::memory_order_acquire);
      const bool flood = counting && flooding.load(std::memory_order_relaxed);
      for (unsigned i = 0; i < 32; ++i) {
        if (flood) r.record_query(abuser, 1);
        if (counting) {
          other.bytes[3] = static_cast<uint8_t>(i + 32 * w);
          r.record_query(other, 1);
        }
        if (const ActiveBlock* b = r.lookup(abuser)) {
          r.count_hit(*b);
          seen[w].fetch_add(1, std::memory_order_relaxed);
        }
      }
      r.end_batch();
      if (counting) counted[w].store(++done, std::memory_order_release);
    }
  };
  std::thread t0(worker, 0), t1(worker, 1);
  const SourcePrefix abuser = prefix("192.0.2.66", 32);
  unsigned created = 0, released = 0;
  bool was_blocked = false;
  for (uint64_t second = 1; second <= 300; ++second) {
    // Three seconds of flood, three of quiet: blocked, then released. Two
    // batches per worker and second: a flood of 128 against a bound of 50,
    // and 4 queries from each other source.
    flooding.store(second % 6 < 3, std::memory_order_relaxed);
    for (unsigned w = 0; w < 2; ++w) granted[w].fetch_add(2, std::memory_order_release);
    for (unsigned w = 0; w < 2; ++w) {
      while (counted[w].load(std::memory_order_acquire) < 2 * second) std::this_thread::yield();
    }
    while (!e.evaluate(second * kSecond)) std::this_thread::yield();
    const auto listing = e.list();
    const bool blocked_now = listing.size() == 1 && listing[0].prefix == abuser.to_string();
    REQUIRE((listing.empty() || blocked_now));
    // Blocked by each flooding second's evaluation, released by the first quiet one.
    CHECK(blocked_now == (second % 6 < 3));
    created += blocked_now && !was_blocked;
    released += was_blocked && !blocked_now;
    was_blocked = blocked_now;
  }
  stop = true;
  t0.join();
  t1.join();
  CHECK(created == 51);  // at 1s, then at every 6th second
  CHECK(released == 50);
  CHECK(seen[0].load() > 0);
  CHECK(seen[1].load() > 0);
  CHECK(e.block_hits(0) == seen[0].load() + seen[1].load());
}

TEST_CASE("dynblock: clear releases blocks at once, by block name or all, and forgets their counts") {
  BlockEngine e({queries_block("flood", 10, 3, 60), queries_block("other", 10, 3, 60)}, {});
  BlockRecorder& r = e.recorder(0);
  send(r, "192.0.2.1", 50);
  REQUIRE(e.evaluate(1 * kSecond));
  REQUIRE(e.active_count() == 2);  // both blocks count queries
  r.begin_batch();
  r.count_hit(*r.lookup(addr("192.0.2.1")));
  r.end_batch();

  CHECK(e.clear("nope") == -1);
  CHECK(e.active_count() == 2);
  CHECK(e.clear("flood") == 1);
  CHECK(e.active_count() == 1);
  REQUIRE(e.list().size() == 1);
  CHECK(e.list()[0].block == "other");
  CHECK(blocked(r, "192.0.2.1"));  // "other" still holds it
  CHECK(e.clear("") == 1);
  CHECK(e.active_count() == 0);
  CHECK_FALSE(blocked(r, "192.0.2.1"));
  CHECK(e.clear("") == 0);
  // The rings were emptied: the flood of second 0 does not block again.
  REQUIRE(e.evaluate(2 * kSecond));
  CHECK(e.active_count() == 0);
  CHECK(e.block_hits(0) == 1);  // the hit on the released block is kept

  // A clear during a flip (a worker still inside its batch) frees nothing
  // that worker may hold until a later flip has completed.
  send(r, "192.0.2.1", 50);
  REQUIRE(e.evaluate(3 * kSecond));
  REQUIRE(e.active_count() == 2);
  r.begin_batch();  // inside a batch: the next evaluate cannot complete
  const ActiveBlock* held = r.lookup(addr("192.0.2.1"));
  REQUIRE(held != nullptr);
  CHECK_FALSE(e.evaluate(4 * kSecond));
  CHECK(e.clear("") == 2);
  r.count_hit(*held);  // still valid
  r.end_batch();
  REQUIRE(e.evaluate(4 * kSecond));
  CHECK(e.active_count() == 0);
  REQUIRE(e.evaluate(5 * kSecond));
  CHECK(e.block_hits(0) + e.block_hits(1) == 2);
}
