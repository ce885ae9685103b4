#!/usr/bin/env python3
"""DNS over TCP, with real clients (dig +tcp/+vc, kdig, dnspython) and real
backends (NSD over TCP; a small TCP server of ours for what NSD will not do on
demand: silence, closing mid-query, slowness). Every limit and timeout is
triggered on purpose and read back through `dnspc ctl stats`."""

import contextlib
import resource
import socket
import struct
import subprocess
import threading
import time
import unittest

from harness import BIG_TXT, DNSPC, ZONE, Dnspc, Nsd, Workdir, build_query, dns, wait_until


def framed(packet):
    return struct.pack("!H", len(packet)) + packet


def read_frames(sock, count, timeout=5.0):
    """Up to `count` length-prefixed messages; stops early at EOF."""
    sock.settimeout(timeout)
    buf = b""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            n = struct.unpack("!H", buf[:2])[0]
            out.append(buf[2:2 + n])
            buf = buf[2 + n:]
        if len(out) >= count:
            break
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return out


def closed_by_peer(sock, timeout):
    """True when the peer closes the connection within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


def connect(port, source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def tcp_stats(d):
    return d.stats()["tcp"]


class TcpBackend:
    """A DNS-over-TCP server in a thread, with a mode:
      normal     answer each query (A 192.0.2.77)
      silent     read queries, never answer
      close_once close the first connection after reading one query, then behave
      slow       answer after `delay` seconds
    It counts connections and queries and keeps the names it was asked, in
    the order they arrived (`seen`)."""

    def __init__(self, mode="normal", delay=0.5):
        self.mode = mode
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.queries = 0
        self.closed_once = False
        self.seen = []
        self._lock = threading.Lock()
        self._stop = False
        self._conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def server(self):
        return f"127.0.0.1:{self.port}"

    def names(self):
        with self._lock:
            return list(self.seen)

    def close(self):
        self._stop = True
        with contextlib.suppress(OSError):
            self.sock.close()
        for c in self._conns:
            with contextlib.suppress(OSError):
                c.close()

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self._conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        while not self._stop:
            try:
                chunk = c.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                wire, buf = buf[2:2 + n], buf[2 + n:]
                with self._lock:
                    self.queries += 1
                    self.seen.append(dns.message.from_wire(wire).question[0].name.to_text())
                if self.mode == "silent":
                    continue
                if self.mode == "close_once" and not self.closed_once:
                    self.closed_once = True
                    c.close()
                    return
                q = dns.message.from_wire(wire)
                r = dns.message.make_response(q)
                r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", "192.0.2.77"))
                out = framed(r.to_wire())
                if self.mode == "slow":
                    threading.Timer(self.delay, self._send, (c, out)).start()
                else:
                    self._send(c, out)

    @staticmethod
    def _send(c, data):
        with contextlib.suppress(OSError):
            c.sendall(data)


def dig(port, *args):
    r = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=3", "+tries=1", *args],
                       capture_output=True, text=True, timeout=20)
    return r.stdout


class Tcp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))  # dnspc inherits it
        cls.work = Workdir()
        cls.nsd = Nsd(cls.work.path, "tcp-a", extra_records=[BIG_TXT]).start()
        cls.d = Dnspc(cls.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 2;
option tcp_max_connections_per_client 50;
pool p {{ server {cls.nsd.server()} state up; }}
rule any_tc: qtype == ANY => truncate;
rule default: true => pool p;
""")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.nsd.kill()
        cls.work.cleanup()

    def test_dig_tcp_and_vc(self):
        for flag in ("+tcp", "+vc"):
            out = dig(self.d.port, flag, f"www.{ZONE}", "A")
            self.assertIn("192.0.2.80", out, flag)
            self.assertIn("TCP", out.upper(), flag)
        st = tcp_stats(self.d)
        self.assertGreaterEqual(st["queries"], 2)
        self.assertGreaterEqual(st["backend"]["backend_connects"], 1)

    def test_kdig_tcp(self):
        r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(self.d.port), "+tcp", "+short", f"www.{ZONE}", "AAAA"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.stdout.strip(), "2001:db8::80")

    def test_truncate_rule_sends_client_to_tcp_where_it_does_not_truncate(self):
        # Over UDP the rule answers TC=1; dig retries over TCP, where the rule
        # does not decide and the backend answers.
        out = dig(self.d.port, "+notcp", f"{ZONE}", "ANY")
        self.assertIn("Truncated, retrying in TCP mode", out)
        self.assertIn("status: NOERROR", out)
        self.assertIn("SOA", out)

    def test_backend_tc_answer_passes_to_client_who_retries_over_tcp(self):
        out = dig(self.d.port, "+noedns", f"big.{ZONE}", "TXT")
        self.assertIn("Truncated, retrying in TCP mode", out)
        self.assertIn("-5\"", out)  # the last string of the record, whole

    def test_100_pipelined_queries_in_one_write(self):
        msgs = [dns.message.make_query(f"n{i}.who.{ZONE}", "TXT") for i in range(100)]
        for i, m in enumerate(msgs):
            m.id = 1000 + i  # random IDs collide one run in 13 (birthday bound), and answers are matched by ID
        with connect(self.d.port) as s:
            s.sendall(b"".join(framed(m.to_wire()) for m in msgs))
            answers = [dns.message.from_wire(w) for w in read_frames(s, 100)]
        self.assertEqual(len(answers), 100)
        by_id = {m.id: m for m in msgs}
        self.assertEqual(len({a.id for a in answers}), 100)
        for a in answers:
            q = by_id[a.id]
            self.assertEqual(a.question[0].name, q.question[0].name)
            self.assertEqual(b"".join(a.answer[0][0].strings).decode(), "tcp-a")

    def test_per_client_limit_with_2000_idle_connections(self):
        before = tcp_stats(self.d)["closed"]["refused_client_limit"]
        socks = []
        try:
            for _ in range(2000):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    s.connect(("127.0.0.1", self.d.port))
                socks.append(s)
            wait_until(lambda: tcp_stats(self.d)["closed"]["refused_client_limit"] - before >= 1950, 15, 0.1,
                       "the per-client limit to refuse connections")
            self.assertLessEqual(tcp_stats(self.d)["open"], 50 + 5)
            # Another client still gets answers over TCP.
            q = dns.message.make_query(f"www.{ZONE}", "A")
            r = dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=3, source="127.0.0.2")
            self.assertEqual(r.answer[0][0].address, "192.0.2.80")
        finally:
            for s in socks:
                s.close()
        self.assertEqual(tcp_stats(self.d)["closed"]["refused_client_limit"] - before, 1950)

    def test_short_length_prefix_closes(self):
        before = tcp_stats(self.d)["closed"]["closed_short_length"]
        with connect(self.d.port) as s:
            s.sendall(b"\x00\x05hello")
            self.assertTrue(closed_by_peer(s, 3))
        self.assertEqual(tcp_stats(self.d)["closed"]["closed_short_length"] - before, 1)

    def test_half_close_still_gets_its_answers(self):
        # `printf ... | nc -N`: the query, then the client's FIN at once.
        with connect(self.d.port) as s:
            s.sendall(b"".join(framed(build_query(f"www.{ZONE}", qid=i)) for i in range(3)))
            s.shutdown(socket.SHUT_WR)
            answers = read_frames(s, 3)
            self.assertEqual(len(answers), 3)
            self.assertTrue(closed_by_peer(s, 3))

    def test_client_closing_mid_answer_costs_only_its_connection(self):
        for _ in range(20):
            with connect(self.d.port) as s:
                s.sendall(framed(build_query(f"www.{ZONE}")))
        q = dns.message.make_query(f"www.{ZONE}", "A")
        r = dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=3)
        self.assertEqual(r.answer[0][0].address, "192.0.2.80")


class TcpLimits(unittest.TestCase):
    """Each limit on its own instance, with small values."""

    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.nsd = Nsd(cls.work.path, "tcp-b").start()

    @classmethod
    def tearDownClass(cls):
        cls.nsd.kill()
        cls.work.cleanup()

    def dnspc(self, options, pool=None):
        d = Dnspc(self.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 1;
{options}
pool p {{ server {pool or self.nsd.server()} state up; }}
rule default: true => pool p;
""")
        self.addCleanup(d.stop)
        return d

    def test_total_connection_limit(self):
        d = self.dnspc("option tcp_max_connections 10;")
        socks = [connect(d.port) for _ in range(10)]
        wait_until(lambda: tcp_stats(d)["open"] == 10, 5, 0.05, "10 connections open")
        with connect(d.port, "127.0.0.3") as extra:
            self.assertTrue(closed_by_peer(extra, 3))
        self.assertEqual(tcp_stats(d)["closed"]["refused_total_limit"], 1)
        for s in socks:
            s.close()

    def test_queries_per_connection(self):
        d = self.dnspc("option tcp_max_queries_per_connection 5;")
        with connect(d.port) as s:
            s.sendall(b"".join(framed(build_query(f"www.{ZONE}", qid=i)) for i in range(10)))
            answers = read_frames(s, 10)
            self.assertEqual(len(answers), 5)
            self.assertTrue(closed_by_peer(s, 3))
        self.assertEqual(tcp_stats(d)["closed"]["closed_query_limit"], 1)

    def test_idle_timeout(self):
        d = self.dnspc("option tcp_idle_timeout 300ms;")
        with connect(d.port) as s:
            self.assertTrue(closed_by_peer(s, 5))
        self.assertEqual(tcp_stats(d)["closed"]["closed_idle"], 1)

    def test_slow_drip_closed_at_duration_limit(self):
        d = self.dnspc("option tcp_idle_timeout 1s; option tcp_max_duration 1500ms;")
        wire = framed(build_query(f"www.{ZONE}"))
        t0 = time.monotonic()
        closed = False
        with connect(d.port) as s:
            for i in range(len(wire) - 1):  # never the last byte
                try:
                    s.sendall(wire[i:i + 1])
                except OSError:
                    closed = True
                    break
                time.sleep(0.15)
                if time.monotonic() - t0 > 6:
                    break
            closed = closed or closed_by_peer(s, 3)
        self.assertTrue(closed)
        st = tcp_stats(d)["closed"]
        self.assertEqual(st["closed_duration"], 1)
        self.assertEqual(st["closed_incomplete"], 1)

    def test_buffered_bytes_limit(self):
        d = self.dnspc("option tcp_max_buffered_bytes 512;")
        with connect(d.port) as s:
            s.sendall(b"\x0f\xa0" + b"\0" * 100)  # announces 4000 bytes
            self.assertTrue(closed_by_peer(s, 3))
        self.assertEqual(tcp_stats(d)["closed"]["closed_buffer"], 1)

    def test_backend_timeout_answers_servfail(self):
        b = TcpBackend("silent")
        self.addCleanup(b.close)
        d = self.dnspc("option tcp_backend_timeout 300ms;", b.server())
        q = dns.message.make_query(f"www.{ZONE}", "A")
        t0 = time.monotonic()
        r = dns.query.tcp(q, "127.0.0.1", port=d.port, timeout=5)
        # At the backend timeout, not at the (5 s) connect timeout.
        self.assertLess(time.monotonic() - t0, 4.0)
        self.assertEqual(r.rcode(), dns.rcode.SERVFAIL)
        st = tcp_stats(d)["backend"]
        self.assertEqual(st["backend_timeouts"], 1)
        self.assertEqual(d.stats()["timeouts"]["total"], 1)

    def test_reload_moves_tcp_timers(self):
        # A query waiting on a silent backend under a 30 s timeout; a reload
        # to 300 ms answers it SERVFAIL now, not 30 s later.
        b = TcpBackend("silent")
        self.addCleanup(b.close)
        d = self.dnspc("option tcp_backend_timeout 30s;", b.server())
        with connect(d.port) as s:
            s.sendall(framed(build_query(f"www.{ZONE}", qid=9)))
            wait_until(lambda: b.queries >= 1, 5, 0.02, "the query at the backend")
            text = d.policy_path.read_text().replace("option tcp_backend_timeout 30s;",
                                                     "option tcp_backend_timeout 300ms;")
            d.policy_path.write_text(text)
            r = subprocess.run([DNSPC, "reload", "--control", d.control], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            t0 = time.monotonic()
            answers = read_frames(s, 1, timeout=10)
            self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(dns.message.from_wire(answers[0]).rcode(), dns.rcode.SERVFAIL)

    def test_backend_closing_with_query_in_flight_is_retried_once(self):
        b = TcpBackend("close_once")
        self.addCleanup(b.close)
        d = self.dnspc("", b.server())
        q = dns.message.make_query(f"www.{ZONE}", "A")
        r = dns.query.tcp(q, "127.0.0.1", port=d.port, timeout=5)
        self.assertEqual(r.answer[0][0].address, "192.0.2.77")
        st = tcp_stats(d)["backend"]
        self.assertEqual(st["backend_closed_in_flight"], 1)
        self.assertEqual(st["backend_retries"], 1)
        self.assertEqual(b.connections, 2)

    def test_sigterm_answers_tcp_queries_in_flight_and_exits_cleanly(self):
        b = TcpBackend("slow", delay=0.6)
        self.addCleanup(b.close)
        d = self.dnspc("", b.server())
        with connect(d.port) as s:
            s.sendall(b"".join(framed(build_query(f"q{i}.{ZONE}", qid=i)) for i in range(3)))
            time.sleep(0.2)  # in flight at the backend
            rc_box = {}
            t = threading.Thread(target=lambda: rc_box.update(rc=d.terminate()[0]))
            t.start()
            answers = [dns.message.from_wire(w) for w in read_frames(s, 3)]
            t.join(20)
        self.assertEqual(sorted(a.id for a in answers), [0, 1, 2])
        self.assertTrue(all(a.rcode() == dns.rcode.NOERROR for a in answers))
        self.assertEqual(rc_box.get("rc"), 0, d.log_text()[-2000:])

    def test_backend_connections_reused_and_queries_wait_for_room(self):
        # One connection with room for two: the other three wait for it (they
        # are not answered SERVFAIL) and every query uses that one connection.
        b = TcpBackend("slow", delay=0.5)
        self.addCleanup(b.close)
        d = self.dnspc("option tcp_backend_connections 1; option tcp_backend_max_in_flight 2;", b.server())
        with connect(d.port) as s:
            s.sendall(b"".join(framed(build_query(f"q{i}.{ZONE}", qid=i)) for i in range(5)))
            answers = [dns.message.from_wire(w) for w in read_frames(s, 5, timeout=20)]
        self.assertEqual(sorted(a.id for a in answers), [0, 1, 2, 3, 4])
        self.assertTrue(all(a.rcode() == dns.rcode.NOERROR for a in answers), [a.rcode() for a in answers])
        st = tcp_stats(d)["backend"]
        self.assertEqual(st["backend_busy"], 0)
        self.assertEqual(st["backend_waited"], 3)
        # A second round reuses the one connection.
        with connect(d.port) as s:
            s.sendall(framed(build_query(f"again.{ZONE}", qid=7)))
            self.assertEqual(dns.message.from_wire(read_frames(s, 1)[0]).rcode(), dns.rcode.NOERROR)
        self.assertEqual(b.connections, 1)
        self.assertGreaterEqual(tcp_stats(d)["backend"]["backend_reused"], 2)

    def test_waiting_query_times_out_from_when_it_was_read(self):
        # Room for one query at a silent backend: the other two wait, and at
        # the backend timeout all three get SERVFAIL (the one in flight by its
        # connection's timeout, the waiting ones by theirs), none sent again.
        b = TcpBackend("silent")
        self.addCleanup(b.close)
        d = self.dnspc("option tcp_backend_connections 1; option tcp_backend_max_in_flight 1;"
                       " option tcp_backend_timeout 500ms;", b.server())
        with connect(d.port) as s:
            s.sendall(b"".join(framed(build_query(f"q{i}.{ZONE}", qid=i)) for i in range(3)))
            answers = [dns.message.from_wire(w) for w in read_frames(s, 3, timeout=10)]
        self.assertEqual(sorted(a.id for a in answers), [0, 1, 2])
        self.assertEqual([a.rcode() for a in answers], [dns.rcode.SERVFAIL] * 3)
        st = d.stats()
        self.assertEqual(st["tcp"]["backend"]["backend_timeouts"], 1)
        self.assertEqual(st["tcp"]["backend"]["backend_wait_timeouts"], 2)
        self.assertEqual(st["tcp"]["backend"]["backend_waiting"], 0)
        self.assertEqual(st["timeouts"]["total"], 3)
        self.assertEqual(b.queries, 1)

    def test_2000_pipelined_queries_on_one_connection_are_all_answered(self):
        # Four times what the backend connections take at once (8 x 64): the
        # excess waits, the connection is read no faster than it is answered.
        d = self.dnspc("option tcp_max_queries_per_connection 5000;")
        n = 2000
        wire = b"".join(framed(build_query(f"n{i}.who.{ZONE}", qtype=16, qid=i)) for i in range(n))
        with connect(d.port) as s:
            writer = threading.Thread(target=s.sendall, args=(wire,))  # one write; read meanwhile
            writer.start()
            answers = [dns.message.from_wire(w) for w in read_frames(s, n, timeout=60)]
            writer.join(10)
        self.assertEqual(len(answers), n)
        self.assertEqual(sorted(a.id for a in answers), list(range(n)))
        rcodes = [a.rcode() for a in answers]
        self.assertEqual(rcodes.count(dns.rcode.SERVFAIL), 0)
        self.assertEqual(rcodes.count(dns.rcode.NOERROR), n)
        for a in answers:
            self.assertEqual(a.question[0].name.to_text(), f"n{a.id}.who.{ZONE}")
        st = tcp_stats(d)
        self.assertEqual(st["backend"]["backend_busy"], 0)
        self.assertEqual(st["backend"]["servfail"], 0)
        self.assertGreaterEqual(st["client_paused"], 1)

    def test_hog_connections_do_not_starve_another_client(self):
        # Room for 32 queries at the slow backend (2 connections x 16). Four
        # connections pipeline 600 queries each; another client's queries
        # still get answers, and soon: the waiting queries are served one per
        # client connection in turn, so they are not behind the hog's.
        b = TcpBackend("slow", delay=0.5)
        self.addCleanup(b.close)
        d = self.dnspc("option tcp_backend_connections 2; option tcp_backend_max_in_flight 16;", b.server())
        hogs = []
        self.addCleanup(lambda: [h.close() for h in hogs])
        for k in range(4):
            h = connect(d.port)
            hogs.append(h)
            h.sendall(b"".join(framed(build_query(f"h{k}-{i}.hog.{ZONE}", qid=i)) for i in range(600)))
        wait_until(lambda: b.queries >= 32, 10, 0.02, "the backend's room taken by the hog")
        before = len(b.names())
        with connect(d.port, "127.0.0.2") as s:
            s.sendall(b"".join(framed(build_query(f"o{i}.other.{ZONE}", qid=i)) for i in range(5)))
            answers = [dns.message.from_wire(w) for w in read_frames(s, 5, timeout=30)]
        self.assertEqual(sorted(a.id for a in answers), [0, 1, 2, 3, 4])
        self.assertEqual([a.rcode() for a in answers], [dns.rcode.NOERROR] * 5)
        self.assertTrue(all(a.answer[0][0].address == "192.0.2.77" for a in answers))
        # Round robin over five client connections: the other client's five
        # queries reach the backend within about 25 sends (behind the hog's
        # 96 waiting queries, a plain FIFO would need over 96).
        names = b.names()
        positions = [i - before for i, name in enumerate(names) if name.endswith(f".other.{ZONE}")]
        self.assertEqual(len(positions), 5)
        self.assertLess(max(positions), 48, positions)
        st = tcp_stats(d)["backend"]
        self.assertEqual(st["backend_busy"], 0)
        self.assertGreaterEqual(st["backend_waited"], 5)
        self.assertGreaterEqual(tcp_stats(d)["client_paused"], 4)  # each hog connection held back

    def check_servfail_after_two_tries(self, d, counter):
        """A TCP query whose backend cannot be reached: SERVFAIL after the
        first try and the retry, each counted under `counter`."""
        q = dns.message.make_query(f"www.{ZONE}", "A")
        r = dns.query.tcp(q, "127.0.0.1", port=d.port, timeout=5)
        self.assertEqual(r.rcode(), dns.rcode.SERVFAIL)
        # The worker counts after it has sent: on a busy machine the answer
        # can arrive before the counter moves.
        deadline = time.monotonic() + 2
        st = tcp_stats(d)["backend"]
        while st["servfail"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
            st = tcp_stats(d)["backend"]
        self.assertEqual(st[counter], 2)
        self.assertEqual(st["servfail"], 1)

    def test_backend_connect_timeout(self):
        # A listener whose accept queue is full and never drained: Linux drops
        # further SYNs, so dnspc's connect hangs until tcp_connect_timeout.
        jam = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        jam.bind(("127.0.0.1", 0))
        jam.listen(0)
        port = jam.getsockname()[1]
        fillers = []
        for _ in range(4):  # more than the queue holds; the extra ones hang too
            f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            f.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                f.connect(("127.0.0.1", port))
            fillers.append(f)
        self.addCleanup(lambda: [x.close() for x in fillers + [jam]])
        time.sleep(0.2)
        d = self.dnspc("option tcp_connect_timeout 300ms;", f"127.0.0.1:{port}")
        self.check_servfail_after_two_tries(d, "backend_connect_timeouts")

    def test_backend_connect_failure_answers_servfail(self):
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        d = self.dnspc("", f"127.0.0.1:{dead}")
        self.check_servfail_after_two_tries(d, "backend_connect_failures")


class TcpNoAnswer(unittest.TestCase):
    """A TCP query that gets no answer (a drop rule, no usable server with
    on_no_server drop, a response rule's drop) ends its connection once
    everything else owed on it is written: the client learns at once, not at
    its idle timeout (30 s here)."""

    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.nsd = Nsd(cls.work.path, "tcp-c").start()
        cls.slow = TcpBackend("slow", delay=0.5)
        cls.d = Dnspc(cls.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 1;
option tcp_idle_timeout 30s;
pool p {{ server {cls.nsd.server()} state up; }}
pool slow {{ server {cls.slow.server()} state up; }}
pool gone {{ server 127.0.0.1:9 state down; on_no_server drop; }}
rule dropped: qname suffix "drop.test." => drop;
rule nowhere: qname suffix "nowhere.test." => pool gone;
rule slow: qname suffix "slow.test." => pool slow;
rule default: true => pool p;
response rule hide_nx: rcode == NXDOMAIN and qname suffix "hide.{ZONE}" => drop;
""")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.nsd.kill()
        cls.slow.close()
        cls.work.cleanup()

    def closed_dropped(self):
        return tcp_stats(self.d)["closed"].get("closed_dropped", 0)

    def assert_closed_at_once(self, name):
        with connect(self.d.port) as s:
            s.sendall(framed(build_query(name, qid=1)))
            t0 = time.monotonic()
            self.assertTrue(closed_by_peer(s, 5), f"{name}: no close within 5 s")
            self.assertLess(time.monotonic() - t0, 5)

    def test_drop_rule_closes(self):
        before = self.closed_dropped()
        self.assert_closed_at_once("x.drop.test.")
        self.assertEqual(self.closed_dropped() - before, 1)
        self.assertGreaterEqual(self.d.stats()["actions"]["drop"], 1)

    def test_no_usable_server_with_on_no_server_drop_closes(self):
        before = self.closed_dropped()
        self.assert_closed_at_once("x.nowhere.test.")
        self.assertEqual(self.closed_dropped() - before, 1)
        self.assertGreaterEqual(self.d.stats()["no_server"]["dropped"], 1)

    def test_response_rule_drop_closes(self):
        before = self.closed_dropped()
        self.assert_closed_at_once(f"nothing.hide.{ZONE}")
        self.assertEqual(self.closed_dropped() - before, 1)

    def test_answers_owed_are_written_before_the_close(self):
        # A slow query, then a dropped one, in one write: the slow one's answer
        # still comes (after the drop was decided), then the close.
        with connect(self.d.port) as s:
            s.sendall(framed(build_query("a.slow.test.", qid=5)) + framed(build_query("x.drop.test.", qid=6)))
            answers = read_frames(s, 2, timeout=5)
            self.assertEqual([dns.message.from_wire(w).id for w in answers], [5])
            self.assertEqual(dns.message.from_wire(answers[0]).rcode(), dns.rcode.NOERROR)
            self.assertTrue(closed_by_peer(s, 5))

    def test_answered_queries_keep_the_connection_open(self):
        with connect(self.d.port) as s:
            for i in range(3):
                s.sendall(framed(build_query(f"www.{ZONE}", qid=i)))
                self.assertEqual(dns.message.from_wire(read_frames(s, 1)[0]).id, i)
            self.assertFalse(closed_by_peer(s, 0.3))


if __name__ == "__main__":
    unittest.main(verbosity=2)
