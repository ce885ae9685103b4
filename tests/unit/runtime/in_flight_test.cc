// The in-flight table alone, without sockets: slots, the FIFO in send order,
// backend IDs unique per (server, socket), growth on reload.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "dnspc/runtime/in_flight.h"

using dnspc::runtime::InFlightQuery;
using dnspc::runtime::InFlightTable;
using Result = InFlightTable::AddResult;

namespace {

// Draws the IDs given, in order (then the last one forever).
struct Ids {
  std::vector<uint16_t> ids;
  size_t next = 0;
  uint16_t operator()() { return ids[next < ids.size() ? next++ : ids.size() - 1]; }
};

std::vector<uint32_t> fifo(const InFlightTable& t) {
  std::vector<uint32_t> out;
  t.for_each([&](uint32_t i, const InFlightQuery&) { out.push_back(i); });
  return out;
}

}  // namespace

TEST_CASE("in-flight table: add, find by server/socket/ID, release") {
  InFlightTable t;
  t.reserve(2, 16, 8);
  REQUIRE(t.capacity() == 8);
  Result r;
  Ids draw{{100, 200}};
  uint32_t a = t.add(0, 1, 1000, draw, r);
  REQUIRE(r == Result::kOk);
  uint32_t b = t.add(1, 1, 2000, draw, r);
  REQUIRE(r == Result::kOk);
  CHECK(t[a].backend_id == 100);
  CHECK(t[a].server == 0);
  CHECK(t[a].socket == 1);
  CHECK(t[a].sent_ns == 1000);
  CHECK(t.size() == 2);
  CHECK(t.find(0, 1, 100) == a);
  CHECK(t.find(1, 1, 200) == b);
  // The same ID on another socket or server is another query.
  CHECK(t.find(0, 2, 100) == InFlightTable::kNone);
  CHECK(t.find(1, 1, 100) == InFlightTable::kNone);
  CHECK(t.find(7, 1, 100) == InFlightTable::kNone);  // a server it has no map for
  t.release(a);
  CHECK(t.find(0, 1, 100) == InFlightTable::kNone);
  CHECK(t.size() == 1);
  CHECK(t.free_slots() == 7);
}

TEST_CASE("in-flight table: an ID taken on the socket is drawn again, eight misses fail") {
  InFlightTable t;
  t.reserve(1, 16, 8);
  Result r;
  Ids first{{7}};
  uint32_t a = t.add(0, 0, 1, first, r);
  REQUIRE(r == Result::kOk);
  Ids again{{7, 7, 9}};
  uint32_t b = t.add(0, 0, 2, again, r);
  REQUIRE(r == Result::kOk);
  CHECK(t[b].backend_id == 9);
  CHECK(again.next == 3);
  Ids always_taken{{7}};
  CHECK(t.add(0, 0, 3, always_taken, r) == InFlightTable::kNone);
  CHECK(r == Result::kNoId);
  CHECK(always_taken.next == 1);  // drew 8 times, the last ID each time
  CHECK(t.size() == 2);
  CHECK(t.free_slots() == 6);  // the failed add took no slot
  (void)a;
}

TEST_CASE("in-flight table: full table, FIFO in send order with release from the middle") {
  InFlightTable t;
  t.reserve(1, 64, 3);
  Result r;
  uint16_t id = 1;
  auto draw = [&] { return id++; };
  uint32_t a = t.add(0, 0, 10, draw, r);
  uint32_t b = t.add(0, 0, 20, draw, r);
  uint32_t c = t.add(0, 0, 30, draw, r);
  REQUIRE(r == Result::kOk);
  CHECK(t.add(0, 0, 40, draw, r) == InFlightTable::kNone);
  CHECK(r == Result::kNoSlot);
  CHECK(fifo(t) == std::vector<uint32_t>{a, b, c});
  CHECK(t.oldest() == a);
  t.release(b);
  CHECK(fifo(t) == std::vector<uint32_t>{a, c});
  t.release(a);
  CHECK(t.oldest() == c);
  uint32_t d = t.add(0, 0, 50, draw, r);
  REQUIRE(r == Result::kOk);
  CHECK(fifo(t) == std::vector<uint32_t>{c, d});
  t.release(d);
  t.release(c);
  CHECK(t.oldest() == InFlightTable::kNone);
  CHECK(t.size() == 0);
}

TEST_CASE("in-flight table: expiry walks oldest first and stops at the first young one") {
  InFlightTable t;
  t.reserve(1, 64, 16);
  Result r;
  uint16_t id = 1;
  auto draw = [&] { return id++; };
  for (uint64_t sent : {100, 200, 300, 400}) t.add(0, 0, sent, draw, r);
  const uint64_t now = 350, timeout = 100;
  std::vector<uint64_t> expired;
  for (uint32_t i; (i = t.oldest()) != InFlightTable::kNone && t[i].sent_ns + timeout <= now;) {
    expired.push_back(t[i].sent_ns);
    t.release(i);
  }
  CHECK(expired == std::vector<uint64_t>{100, 200});
  CHECK(t.size() == 2);
}

TEST_CASE("in-flight table: growing keeps what is in flight findable by its index") {
  InFlightTable t;
  t.reserve(1, 4, 4);
  Result r;
  uint16_t id = 500;
  auto draw = [&] { return id++; };
  std::vector<uint32_t> slots;
  for (int i = 0; i < 4; ++i) {
    slots.push_back(t.add(0, 3, static_cast<uint64_t>(i), draw, r));
    t[slots.back()].qtype = static_cast<uint16_t>(i + 1);
  }
  const uint32_t small_ids = t.id_capacity(0);
  // A reload: a second server, a larger bound, more slots.
  t.reserve(2, 4096, 100);
  CHECK(t.capacity() == 100);
  CHECK(t.id_capacity(0) > small_ids);
  CHECK(t.id_capacity(1) >= 2 * 4096);
  for (int i = 0; i < 4; ++i) {
    CHECK(t.find(0, 3, static_cast<uint16_t>(500 + i)) == slots[static_cast<size_t>(i)]);
    CHECK(t[slots[static_cast<size_t>(i)]].qtype == i + 1);
  }
  CHECK(fifo(t) == slots);
  CHECK(t.free_slots() == 96);
  // New slots come from the grown part and the old free ones alike.
  for (int i = 0; i < 96; ++i) t.add(1, 0, 10, draw, r);
  CHECK(r == Result::kOk);
  CHECK(t.free_slots() == 0);
  // Shrinking is never done: a smaller policy keeps the table.
  t.reserve(1, 1, 1);
  CHECK(t.capacity() == 100);
}
