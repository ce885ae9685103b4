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
#include "stream_io.h"

namespace dnspc::runtime {

class Worker;
union SockAddr;
struct TcpQuery;

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
  uint32_t refs = 0;         // queries in flight toward a backend
  int open_handles = 0;      // handle + timer; the object goes when both are closed and refs is 0
  bool admitted = false;     // holds a place in TcpAdmission
  bool closed = false;       // closing or closed: answers are discarded
  bool finishing = false;    // no more queries (limit, client EOF, drain): answer what is owed, then end
  bool shutting_down = false;  // everything owed written; FIN sent or being sent
  bool lingering = false;    // after our FIN: reading and discarding until the client's EOF (no RST)
  bool eof_seen = false;     // the client closed its side
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

// A client's TCP query in flight toward a backend. Pooled by the worker; the
// packet buffer keeps its capacity across uses.
struct TcpQuery {
  TcpClientConn* client = nullptr;
  TcpBackendConn* conn = nullptr;
  TcpQuery* next_free = nullptr;
  uint32_t server = 0;
  uint64_t query_tags = 0;  // of the rule that forwarded it (response rules see them)
  uint64_t sent_ns = 0;
  uint16_t backend_id = 0;
  uint16_t client_id = 0;
  uint16_t client_flags = 0;
  uint16_t qtype = 0, qclass = 0;
  uint8_t qname_length = 0;
  uint8_t attempts = 0;
  uint8_t qname[kMaxNameLength];   // the client's case
  std::vector<uint8_t> packet;     // as the backend gets it, for a retry
};

}  // namespace dnspc::runtime
