#include "dnspc/runtime/in_flight.h"

#include <algorithm>
#include <cstring>

#include "dnspc/wire.h"

namespace dnspc::runtime {

void InFlightQuery::capture(const QueryView& q, const uint8_t* question) {
  client_id = q.id;
  client_flags = q.flags;
  qtype = q.qtype;
  qclass = q.qclass;
  edns_present = q.edns_present;
  edns_version = q.edns_version;
  edns_do = q.edns_do;
  edns_payload = q.edns_payload;
  edns_option_bits = q.edns_option_bits;
  query_size = static_cast<uint16_t>(q.size);
  transport = q.transport;
  qname_length = q.qname_length;
  std::memcpy(qname, question, q.qname_length);
}

void InFlightTable::reserve(uint32_t servers, uint32_t per_server, uint64_t slots) {
  if (ids_.size() < servers) ids_.resize(servers);
  for (uint32_t s = 0; s < ids_.size(); ++s) {
    if (ids_[s].capacity() >= 2ull * per_server) continue;
    // A larger bound: a larger map, holding what is in flight to the server.
    IdMap grown(per_server);
    for (uint32_t i = head_; i != kNone; i = slots_[i].next) {
      if (slots_[i].server == s) grown.insert(IdMap::key(slots_[i].socket, slots_[i].backend_id), i);
    }
    ids_[s] = std::move(grown);
  }
  const uint64_t wanted = std::min<uint64_t>(std::max<uint64_t>(slots, 1), 1u << 22);
  if (wanted <= capacity_) return;
  const uint32_t n = static_cast<uint32_t>(wanted);
  // Not zeroed: slots never used cost no memory.
  std::unique_ptr<InFlightQuery[]> grown_slots(new InFlightQuery[n]);
  if (capacity_) std::memcpy(static_cast<void*>(grown_slots.get()), slots_.get(), sizeof(InFlightQuery) * capacity_);
  std::unique_ptr<uint32_t[]> grown_free(new uint32_t[n]);
  uint32_t k = 0;
  for (uint32_t i = n; i-- > capacity_;) grown_free[k++] = i;
  if (free_count_) std::memcpy(grown_free.get() + k, free_.get(), sizeof(uint32_t) * free_count_);  // old free ones on top
  free_count_ += k;
  capacity_ = n;
  slots_ = std::move(grown_slots);
  free_ = std::move(grown_free);
}

void InFlightTable::append(uint32_t index) {
  InFlightQuery& q = slots_[index];
  q.next = kNone;
  q.prev = tail_;
  if (tail_ != kNone) {
    slots_[tail_].next = index;
  } else {
    head_ = index;
  }
  tail_ = index;
  ++size_;
}

void InFlightTable::release(uint32_t index) {
  InFlightQuery& q = slots_[index];
  ids_[q.server].erase(IdMap::key(q.socket, q.backend_id));
  if (q.prev != kNone) {
    slots_[q.prev].next = q.next;
  } else {
    head_ = q.next;
  }
  if (q.next != kNone) {
    slots_[q.next].prev = q.prev;
  } else {
    tail_ = q.prev;
  }
  --size_;
  free_[free_count_++] = index;
}

}  // namespace dnspc::runtime
