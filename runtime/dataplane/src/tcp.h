// DNS over TCP inside a worker: client connections (accepted on the
// worker's own SO_REUSEPORT listener), connections to backends (a small pool
// per backend, reused, queries pipelined with IDs rewritten per connection)
// and the queries in flight between them. Everything here belongs to one
// worker thread; see docs/runtime.md ("TCP").
#pragma once

#include <uv.h>

#include <cstdint>
#include <vector>

#include "dnspc/net_address.h"
#include "dnspc/query_view.h"
#include "dnspc/runtime/in_flight.h"
#include "dnspc/runtime/stream_io.h"

namespace dnspc::runtime {

class Worker;
union SockAddr;
struct TcpQuery;
struct TcpWaiter;

struct TcpListener {
  Worker* worker = nullptr;
  NetAddress address;
  uv_tcp_t handle{};
  bool closed = false;  // removed by a reload (the handle closes; its connections stay)
};

struct TcpClientConn {
  Worker* worker = nullptr;
  uv_tcp_t handle{};
  uv_timer_t timer{};
  uv_shutdown_t shutdown{};
  TcpClientConn *prev = nullptr, *next = nullptr;  // the worker's open connections
  NetAddress source;
  NetAddress destination;  // the listen address it came in on
  uint64_t accepted_ns = 0, last_activity_ns = 0;
  uint32_t queries = 0;
  uint32_t refs = 0;         // queries forwarded, not answered yet (in flight or waiting)
  int open_handles = 0;      // handle + timer; the object goes when both are closed and refs is 0
  bool admitted = false;     // holds a place in TcpAdmission
  bool closed = false;       // closing or closed: answers are discarded
  bool finishing = false;    // no more queries (limit, client EOF, drain): answer what is owed, then end
  bool shutting_down = false;  // everything owed written; FIN sent or being sent
  bool lingering = false;    // after our FIN: reading and discarding until the client's EOF (no RST)
  bool eof_seen = false;     // the client closed its side
  // Its share of backend queries (tcp_client_max_in_flight) is used: not read
  // until answers come, so TCP flow control holds the client back. What was
  // read but not handled yet stays in `in` and is handled on resume.
  bool paused = false;
  bool resume_pending = false;   // in the worker's list of connections to resume
  TcpWaiter* waiters = nullptr;  // its queries waiting for room, one entry per backend
  FrameReader in;
  StreamOut out;
  // The peer as a socket address, for logs (same layout as SockAddr).
  sockaddr_storage peer{};
};

struct TcpBackendConn {
  Worker* worker = nullptr;
  uint32_t server = 0;  // registry id
  uv_tcp_t handle{};
  uv_connect_t connect{};
  uv_timer_t timer{};
  int open_handles = 0;
  bool connected = false;
  bool closed = false;
  uint64_t opened_ns = 0, last_used_ns = 0;
  FrameReader in;
  StreamOut out;
  std::vector<TcpQuery*> in_flight;  // in the order they were sent
};

// A client's TCP query in flight toward a backend: the record every query in
// flight has (its `tcp` is the client connection; `backend_id` and `sent_ns`
// are the latest try's), plus what TCP needs to send, retry and queue it.
// Pooled by the worker; the packet buffer keeps its capacity across uses.
struct TcpQuery : InFlightQuery {
  TcpBackendConn* conn = nullptr;
  TcpQuery* next_free = nullptr;
  uint64_t read_ns = 0;  // when the client's message was read: a waiting query times out from here
  uint8_t attempts = 0;
  // While it waits for room at its backend: its place in its client's queue
  // there, and in the worker's list of waiting queries (oldest first, for
  // timeouts).
  TcpWaiter* waiter = nullptr;
  TcpQuery *wait_prev = nullptr, *wait_next = nullptr;
  TcpQuery *age_prev = nullptr, *age_next = nullptr;
  std::vector<uint8_t> packet;     // as the backend gets it, for a retry
};

// One client connection's queries waiting for room at one backend, oldest
// first. The backend serves its waiters in turn, one query each (round
// robin), so a client with many queries waiting cannot starve the others.
// Pooled by the worker.
struct TcpWaiter {
  TcpClientConn* client = nullptr;
  uint32_t server = 0;
  TcpQuery *head = nullptr, *tail = nullptr;
  // The backend's turn order; `next` also links the worker's free list.
  TcpWaiter *prev = nullptr, *next = nullptr;
  TcpWaiter* client_next = nullptr;  // the client's other waiters
};

}  // namespace dnspc::runtime
