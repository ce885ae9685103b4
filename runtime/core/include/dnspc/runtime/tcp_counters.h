// Per-worker counters of DNS over TCP (see registry.h for Counter).
#pragma once

#include "dnspc/runtime/counter.h"

namespace dnspc::runtime {

struct TcpCounters {
  // Clients.
  Counter accepted;
  Counter open;                  // connections open now (this worker)
  Counter refused_total_limit;   // closed at accept: tcp_max_connections
  Counter refused_client_limit;  // closed at accept: tcp_max_connections_per_client
  Counter acl_dropped;           // closed at accept: outside the ACL with acl_action drop
  Counter queries;               // messages received
  Counter answers;               // messages sent
  Counter closed_by_client;
  Counter closed_query_limit;    // tcp_max_queries_per_connection reached
  Counter closed_idle;           // tcp_idle_timeout
  Counter closed_duration;       // tcp_max_duration
  Counter closed_buffer;         // tcp_max_buffered_bytes
  Counter closed_short_length;   // a length prefix shorter than a DNS header
  Counter closed_incomplete;     // closed (any reason) in the middle of a message
  Counter closed_error;          // read or write error
  Counter closed_dropped;        // a query on it got no answer: closed once the rest was written
  Counter answers_discarded;     // a backend answer for a client already gone
  Counter client_paused;         // stopped reading a connection: its share of backend queries used
  // Backends.
  Counter backend_connects;
  Counter backend_connect_failures;
  Counter backend_connect_timeouts;
  Counter backend_timeouts;       // an answer in flight for longer than tcp_backend_timeout
  Counter backend_closed_in_flight;  // a backend closed with queries in flight
  Counter backend_retries;        // queries sent again on another connection
  Counter backend_reused;         // queries sent on a connection already open
  Counter backend_busy;    // no connection could take it (stays in the JSON; queries wait now)
  Counter backend_waited;  // queries that waited for room on the connections
  Counter backend_wait_timeouts;  // queries that waited longer than tcp_backend_timeout (SERVFAIL)
  Counter backend_waiting;        // waiting now (this worker)
  Counter backend_malformed;
  Counter backend_unknown_id;
  Counter backend_mismatched;
  Counter servfail;               // SERVFAIL answered for a failed TCP forward
};

}  // namespace dnspc::runtime
