// Queries in flight toward backends, one record for both transports.
//
// InFlightQuery is what a query leaves behind when it is forwarded: enough to
// match the backend's answer, give the client its own ID, name case and RD/CD
// bits back, rebuild the client's query view (response rules, a truncated
// answer, SERVFAIL on timeout), record it in the rings, and know where the
// answer goes. UDP queries live in an InFlightTable; a TCP query's record is
// the first member of its TcpQuery (worker-private), which adds connection
// bookkeeping. Either way the answer stage sees an InFlightQuery.
//
// InFlightTable: a worker's UDP queries in flight. Slots in one array
// (referred to by index, so it can grow on reload), a free stack, a FIFO in
// send order (every UDP query has the same timeout, so the head expires
// first) and, per backend, the (socket, backend ID) -> slot map. Nothing
// allocates after reserve().
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/query_view.h"
#include "dnspc/runtime/id_map.h"
#include "dnspc/runtime/sock_addr.h"

namespace dnspc::runtime {

struct TcpClientConn;

struct InFlightQuery {
  uint64_t sent_ns;           // to the backend (TCP: the latest try)
  uint64_t tags;              // of the rule that forwarded it (response rules see them)
  uint64_t edns_option_bits;  // the client's EDNS options, for response rules
  uint32_t server;            // registry id
  uint32_t rule;              // registry rule id of the rule that forwarded it (rings)
  uint16_t backend_id;        // the ID the backend got
  uint16_t client_id;
  uint16_t client_flags;
  uint16_t qtype, qclass;
  uint16_t edns_payload;
  uint16_t delay_ms;  // `delay`: hold the answer this long (UDP)
  uint16_t query_size;
  uint16_t cache_pool;        // the pool whose cache keeps the answer, + 1; 0: none
  uint32_t cache_generation;  // ActivePolicy::generation (low bits) that pool index belongs to
  uint8_t cache_flags;        // RD (1) and CD (2) as sent: the key's (no_recurse, set_cd)
  uint8_t qname_length;
  uint8_t edns_present, edns_version, edns_do;
  Transport transport;
  uint8_t socket;    // UDP: index among the backend's sockets
  uint8_t listener;  // UDP: the listener the answer leaves from
  socklen_t client_len;
  SockAddr client;          // where the query came from (UDP: where the answer goes)
  TcpClientConn* tcp;       // TCP: the connection the answer goes to; UDP: null
  uint32_t prev, next;      // InFlightTable's FIFO
  uint8_t qname[kMaxNameLength];  // the client's case

  // The query's own facts, from its view; `question` is its name as sent.
  void capture(const QueryView& q, const uint8_t* question);
  NetAddress client_address() const { return NetAddress::from_sockaddr(&client.sa); }
};

// Plain data: a table of them costs no memory until slots are used.
static_assert(std::is_trivially_default_constructible_v<InFlightQuery>);

class InFlightTable {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;
  enum class AddResult { kOk, kNoSlot, kNoId };

  // Room for `slots` queries and for `per_server` in flight to each of
  // `servers` servers. Grows only; what is in flight stays (slots keep their
  // indices; ID maps are rebuilt larger).
  void reserve(uint32_t servers, uint32_t per_server, uint64_t slots);

  // A free slot for a query to `server` through its socket `socket`, with a
  // backend ID no query in flight on that socket has: up to 8 draws of
  // `draw()` (a uint16_t source). The slot is last in the FIFO; the caller
  // fills the rest of its record.
  template <class Draw>
  uint32_t add(uint32_t server, uint8_t socket, uint64_t now_ns, Draw&& draw, AddResult& result) {
    if (free_count_ == 0) {
      result = AddResult::kNoSlot;
      return kNone;
    }
    const uint32_t index = free_[free_count_ - 1];
    IdMap& ids = ids_[server];
    for (int tries = 0; tries < 8; ++tries) {
      const uint16_t id = static_cast<uint16_t>(draw());
      if (!ids.insert(IdMap::key(socket, id), index)) continue;
      --free_count_;
      InFlightQuery& q = slots_[index];
      q.server = server;
      q.socket = socket;
      q.backend_id = id;
      q.sent_ns = now_ns;
      append(index);
      result = AddResult::kOk;
      return index;
    }
    result = AddResult::kNoId;
    return kNone;
  }

  // The slot of the query to `server` on `socket` with backend ID `id`, or kNone.
  uint32_t find(uint32_t server, uint8_t socket, uint16_t id) const {
    return server < ids_.size() ? ids_[server].find(IdMap::key(socket, id)) : kNone;
  }
  InFlightQuery& operator[](uint32_t index) { return slots_[index]; }
  const InFlightQuery& operator[](uint32_t index) const { return slots_[index]; }
  void release(uint32_t index);

  // The oldest query, or kNone: expiry walks from here (release() it, then
  // look again).
  uint32_t oldest() const { return head_; }
  // Every slot in flight, oldest first.
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t i = head_; i != kNone; i = slots_[i].next) f(i, slots_[i]);
  }

  uint32_t size() const { return size_; }
  uint32_t capacity() const { return capacity_; }
  uint32_t free_slots() const { return free_count_; }
  uint32_t id_capacity(uint32_t server) const { return server < ids_.size() ? ids_[server].capacity() : 0; }

 private:
  void append(uint32_t index);

  std::unique_ptr<InFlightQuery[]> slots_;
  std::unique_ptr<uint32_t[]> free_;
  std::vector<IdMap> ids_;  // by registry server id
  uint32_t capacity_ = 0, free_count_ = 0, size_ = 0;
  uint32_t head_ = kNone, tail_ = kNone;
};

}  // namespace dnspc::runtime
